import time

from django.core.management.base import BaseCommand, CommandError

from triage.priority import DEFAULT_TARGETS
from triage.simulation import (
    DEFAULT_AI_MODELS,
    DEFAULT_CASE_MIX,
    MISSED,
    POSITIVE,
    Scenario,
    arrivals_per_day,
    format_comparisons,
    format_frontier,
    format_minutes,
    format_table,
    frontier_designs,
    mean_read_minutes,
    robust_designs,
    run_scenario,
    save_sweep_plot,
    save_wait_plot,
    sweep,
    with_sensitivity,
)

SWEEP_LOADS = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2)
SWEEP_SENSITIVITIES = (0.8, 0.85, 0.9, 0.95)


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


class Command(BaseCommand):
    help = "Simulate a reading department under FIFO and AI triage ordering (see docs/simulation.md)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--radiologists", type=int, default=4)
        parser.add_argument("--policy", choices=["fifo", "triage", "edf", "both"], default="both",
                            help="triage: the live order (age ceilings); edf: due time only (before issue 18); "
                                 "both: fifo, edf and triage")
        parser.add_argument("--seed", type=int, default=31337)
        parser.add_argument("--load", type=float, default=0.9, help="reading work as a share of capacity")
        parser.add_argument(
            "--volume-growth", type=float, default=0.3, help="extra volume for the capacity what-if (0.3 = +30 %%)"
        )
        parser.add_argument("--sensitivity", type=float, help="override every AI model's sensitivity")
        parser.add_argument("--specificity", type=float, help="override every AI model's specificity")
        parser.add_argument("--no-what-if", action="store_true", help="skip the capacity what-if runs")
        parser.add_argument("--png", help="save the wait distributions here")
        parser.add_argument(
            "--use-db-targets", action="store_true",
            help="use the manager's UrgencyClass rows and ageing policy, not the defaults",
        )
        parser.add_argument("--sweep", action="store_true",
                            help="FIFO, edf and triage over --loads x --sensitivities x --seeds: one table, one plot")
        parser.add_argument("--frontier", action="store_true",
                            help="every ageing design and parameter set of docs/simulation.md over --loads x --seeds")
        parser.add_argument("--designs", choices=["grid", "robust"], default="grid",
                            help="--frontier: the full grid, or the grid's best with longer routine ceilings")
        parser.add_argument("--loads", default=",".join(map(str, SWEEP_LOADS)))
        parser.add_argument("--sensitivities", default=",".join(map(str, SWEEP_SENSITIVITIES)))
        parser.add_argument("--seeds", default=None, help="comma-separated; default: --seed")
        parser.add_argument("--sweep-png", default=None, help="plot of the sweep (matplotlib PNG)")

    def handle(self, *args, **opts):
        if opts["days"] < 2 or opts["radiologists"] < 1 or opts["load"] <= 0:
            raise CommandError("need --days >= 2, --radiologists >= 1 and --load > 0")
        targets = DEFAULT_TARGETS
        policy_triage = "triage"
        if opts["use_db_targets"]:
            from triage.selectors import order_policy, urgency_targets
            from triage.simulation import Design

            targets = urgency_targets()
            policy_triage = Design("triage", order_policy())
        out = self.stdout.write
        seeds = [int(s) for s in opts["seeds"].split(",")] if opts["seeds"] else [opts["seed"]]
        began = time.monotonic()
        n = opts["radiologists"]

        if opts["sweep"] or opts["frontier"]:
            loads = _floats(opts["loads"])
            sensitivities = _floats(opts["sensitivities"]) if opts["sweep"] else [opts["sensitivity"] or 0.9]
            grid = frontier_designs() if opts["designs"] == "grid" else robust_designs()
            policies = ["edf", policy_triage] if opts["sweep"] else [*grid, policy_triage]
            out(f"{opts['days']} days, {n} radiologists, AI specificity {opts['specificity'] or 0.9:g}, "
                f"loads {loads}, sensitivities {sensitivities}, seeds {seeds}; waits to start reading, "
                "truly positive studies, against FIFO on the same stream\n")
            rows = sweep(loads=loads, sensitivities=sensitivities, seeds=seeds, policies=policies, radiologists=n,
                         days=opts["days"], specificity=opts["specificity"] or 0.9, targets=targets,
                         progress=lambda r: self.stderr.write(f"  load {r[0].load:g} sens {r[0].sensitivity:g} "
                                                              f"seed {r[0].seed} done"))
            out(format_comparisons(rows))
            if opts["frontier"]:
                out("\nFrontier (truly positive waits to start; gain = FIFO median / policy median, ratios = policy / "
                    "FIFO):\n")
                out(format_frontier(rows))
            if opts["sweep_png"]:
                save_sweep_plot(rows, opts["sweep_png"])
                out(f"\nSaved {opts['sweep_png']}")
            out(f"\n({time.monotonic() - began:.0f} s)")
            return

        models = with_sensitivity(DEFAULT_AI_MODELS, opts["sensitivity"], opts["specificity"])
        policies = {"both": ["fifo", "edf", policy_triage]}.get(opts["policy"], [opts["policy"]])
        if opts["policy"] == "triage":
            policies = [policy_triage]
        per_day = arrivals_per_day(load=opts["load"], radiologists=n)
        results, stats = run_scenario(
            Scenario("base", n, per_day), days=opts["days"], seed=seeds[0], policies=policies, targets=targets,
            ai_models=models,
        )
        out(
            f"{opts['days']} days, {n} radiologists reading around the clock, seed {seeds[0]}, "
            f"{per_day:.0f} studies/day (mean reading {mean_read_minutes(DEFAULT_CASE_MIX):.2f} min, "
            f"load {opts['load']:.0%}); AI sensitivity/specificity "
            f"{', '.join(f'{m.name} {m.sensitivity:g}/{m.specificity:g}' for m in models.values())}; "
            "first day left out as warm-up; groups by the class each study truly needed, and judged against it\n"
        )
        out(format_table(stats))

        if "fifo" in stats and len(stats) > 1:
            fifo = {g.group: g for g in stats["fifo"]}
            out("")
            for policy in stats:
                if policy == "fifo":
                    continue
                mine = {g.group: g for g in stats[policy]}
                p, fp = mine[POSITIVE], fifo[POSITIVE]
                out(f"{policy}: truly positive median wait to start FIFO / {policy} = "
                    f"{fp.start_median / max(p.start_median, 1e-9):.1f}x; p99 {format_minutes(fp.start_p99)} → "
                    f"{format_minutes(p.start_p99)} ({p.start_p99 / max(fp.start_p99, 1e-9):.2f}); max "
                    f"{format_minutes(fp.start_max)} → {format_minutes(p.start_max)} "
                    f"({p.start_max / max(fp.start_max, 1e-9):.2f}); missed by AI p99 "
                    f"{format_minutes(fifo[MISSED].start_p99)} → {format_minutes(mine[MISSED].start_p99)}")

        if not opts["no_what_if"] and "fifo" in stats and len(stats) > 1:
            out("\nCapacity what-if (same seed; truly positive, routine and STAT as truly needed):\n")
            out(
                "| scenario | load | policy | positive median wait FIFO → policy (gain) | positive max FIFO → policy "
                "| routine within target FIFO → policy | STAT within target FIFO → policy |"
            )
            out("|" + "---|" * 7)
            scenarios = [
                Scenario(f"volume +{opts['volume_growth']:.0%}", n, per_day * (1 + opts["volume_growth"])),
                Scenario("one radiologist fewer", n - 1, per_day),
                Scenario("one radiologist more", n + 1, per_day),
            ]
            for scenario in scenarios:
                if scenario.radiologists < 1:
                    continue
                _, s = run_scenario(scenario, days=opts["days"], seed=seeds[0], policies=policies, targets=targets,
                                    ai_models=models)
                g = {p: {x.group: x for x in s[p]} for p in s}
                load = scenario.per_day * mean_read_minutes(DEFAULT_CASE_MIX) / (scenario.radiologists * 24 * 60)
                for policy in g:
                    if policy == "fifo":
                        continue
                    pf, pt = g["fifo"][POSITIVE], g[policy][POSITIVE]
                    out(
                        f"| {scenario.name} ({scenario.radiologists} readers) | {load:.0%} | {policy} "
                        f"| {format_minutes(pf.start_median)} → {format_minutes(pt.start_median)} "
                        f"({pf.start_median / max(pt.start_median, 1e-9):.1f}x) "
                        f"| {format_minutes(pf.start_max)} → {format_minutes(pt.start_max)} "
                        f"| {g['fifo']['routine'].within_target:.1%} → {g[policy]['routine'].within_target:.1%} "
                        f"| {g['fifo']['stat'].within_target:.1%} → {g[policy]['stat'].within_target:.1%} |"
                    )

        if opts["png"]:
            save_wait_plot(results, opts["png"], targets=targets)
            out(f"\nSaved {opts['png']}")
        out(f"\n({time.monotonic() - began:.1f} s)")
