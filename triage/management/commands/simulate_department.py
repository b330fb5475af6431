import time
from dataclasses import replace

from django.core.management.base import BaseCommand, CommandError

from triage.priority import DEFAULT_TARGETS
from triage.simulation import (
    DEFAULT_AI_MODELS,
    DEFAULT_CASE_MIX,
    Scenario,
    arrivals_per_day,
    format_minutes,
    format_table,
    mean_read_minutes,
    run_scenario,
    save_wait_plot,
)


class Command(BaseCommand):
    help = "Simulate a reading department under FIFO and AI triage ordering (see docs/simulation.md)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--radiologists", type=int, default=4)
        parser.add_argument("--policy", choices=["fifo", "triage", "both"], default="both")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--load", type=float, default=0.9, help="reading work as a share of capacity")
        parser.add_argument(
            "--volume-growth", type=float, default=0.3, help="extra volume for the capacity what-if (0.3 = +30 %%)"
        )
        parser.add_argument("--sensitivity", type=float, help="override every AI model's sensitivity")
        parser.add_argument("--specificity", type=float, help="override every AI model's specificity")
        parser.add_argument("--no-what-if", action="store_true", help="skip the capacity what-if runs")
        parser.add_argument("--png", help="save the wait distributions here")
        parser.add_argument(
            "--use-db-targets", action="store_true", help="use the manager's UrgencyClass rows, not the defaults"
        )

    def handle(self, *args, **opts):
        if opts["days"] < 2 or opts["radiologists"] < 1 or opts["load"] <= 0:
            raise CommandError("need --days >= 2, --radiologists >= 1 and --load > 0")
        targets = DEFAULT_TARGETS
        if opts["use_db_targets"]:
            from triage.selectors import urgency_targets

            targets = urgency_targets()
        models = {
            name: replace(
                model,
                sensitivity=model.sensitivity if opts["sensitivity"] is None else opts["sensitivity"],
                specificity=model.specificity if opts["specificity"] is None else opts["specificity"],
            )
            for name, model in DEFAULT_AI_MODELS.items()
        }
        policies = ["fifo", "triage"] if opts["policy"] == "both" else [opts["policy"]]
        n = opts["radiologists"]
        per_day = arrivals_per_day(load=opts["load"], radiologists=n)
        out = self.stdout.write

        began = time.monotonic()
        results, stats = run_scenario(
            Scenario("base", n, per_day),
            days=opts["days"],
            seed=opts["seed"],
            policies=policies,
            targets=targets,
            ai_models=models,
        )
        out(
            f"{opts['days']} days, {n} radiologists reading around the clock, seed {opts['seed']}, "
            f"{per_day:.0f} studies/day (mean reading {mean_read_minutes(DEFAULT_CASE_MIX):.2f} min, "
            f"load {opts['load']:.0%}); AI sensitivity/specificity "
            f"{', '.join(f'{m.name} {m.sensitivity:g}/{m.specificity:g}' for m in models.values())}; "
            "first day left out as warm-up\n"
        )
        out(format_table(stats))

        if len(policies) == 2:
            positive = {p: next(g for g in stats[p] if g.group == "truly positive") for p in policies}
            ratio = positive["fifo"].start_median / max(positive["triage"].start_median, 1e-9)
            out(f"\nTruly positive median wait to start: FIFO / triage = {ratio:.1f}x")

        if not opts["no_what_if"] and len(policies) == 2:
            out("\nCapacity what-if (same seed; truly positive and routine-class studies):\n")
            out(
                "| scenario | load | positive median wait FIFO | triage | ratio "
                "| routine within target FIFO | triage | routine p95 to report triage | stat within target triage |"
            )
            out("|" + "---|" * 9)
            scenarios = [
                Scenario(f"volume +{opts['volume_growth']:.0%}", n, per_day * (1 + opts["volume_growth"])),
                Scenario("one radiologist fewer", n - 1, per_day),
                Scenario("one radiologist more", n + 1, per_day),
            ]
            for scenario in scenarios:
                if scenario.radiologists < 1:
                    continue
                _, s = run_scenario(scenario, days=opts["days"], seed=opts["seed"], targets=targets, ai_models=models)
                g = {p: {x.group: x for x in s[p]} for p in policies}
                load = scenario.per_day * mean_read_minutes(DEFAULT_CASE_MIX) / (scenario.radiologists * 24 * 60)
                pf, pt = g["fifo"]["truly positive"], g["triage"]["truly positive"]
                rf, rt = g["fifo"]["routine"], g["triage"]["routine"]
                out(
                    f"| {scenario.name} ({scenario.radiologists} readers) | {load:.0%} "
                    f"| {format_minutes(pf.start_median)} | {format_minutes(pt.start_median)} "
                    f"| {pf.start_median / max(pt.start_median, 1e-9):.1f}x "
                    f"| {rf.within_target:.1%} | {rt.within_target:.1%} | {format_minutes(rt.report_p95)} "
                    f"| {g['triage']['stat'].within_target:.1%} |"
                )

        if opts["png"]:
            save_wait_plot(results, opts["png"], targets=targets)
            out(f"\nSaved {opts['png']}")
        out(f"\n({time.monotonic() - began:.1f} s)")
