// The viewer's input: wheel (slices; with Ctrl, zoom), keys (slices, O for the segmentation),
// drags (window/level or pan; the right button does the other), pick-mode clicks, and the toolbar,
// slider, legend and findings list. attach() wires them all; the returned function unwires them.

const WHEEL_STEP = 40; // wheel delta (px) that moves one slice

export function createInput(ctx) {
  const { state, dom } = ctx;
  const { root, stage, slider, seriesSelect, presetBox, modeButton, zoomIn, zoomOut, resetButton, legend,
    overlayCheckbox, legendList, findingsList } = dom;
  let drag = null;

  function onWheel(event) {
    event.preventDefault();
    if (event.ctrlKey) {
      const box = stage.getBoundingClientRect();
      ctx.render.zoomAt(event.deltaY < 0 ? 1.15 : 1 / 1.15, event.clientX - box.left, event.clientY - box.top);
      return;
    }
    // One slice per wheel notch whatever its size (100 or 120 px by browser); trackpads send many
    // small deltas, which add up to a slice.
    state.wheelAccum += event.deltaMode === 1 ? event.deltaY * WHEEL_STEP : event.deltaY;
    if (Math.abs(state.wheelAccum) >= WHEEL_STEP) {
      ctx.setIndex(state.index + Math.sign(state.wheelAccum));
      state.wheelAccum = 0;
    }
  }

  function onKey(event) {
    if (!state.geo || event.target === slider || event.target === seriesSelect) return;
    const n = state.geo.slices.length;
    const moves = { ArrowUp: -1, ArrowLeft: -1, ArrowDown: 1, ArrowRight: 1, PageUp: -10, PageDown: 10 };
    if (event.key in moves) ctx.setIndex(state.index + moves[event.key]);
    else if (event.key === "Home") ctx.setIndex(0);
    else if (event.key === "End") ctx.setIndex(n - 1);
    else if ((event.key === "o" || event.key === "O") && !event.ctrlKey && !event.metaKey && !event.altKey) {
      if (!state.overlays.segments.length) return;
      ctx.seg.setVisible(!state.overlays.visible);
    } else return;
    event.preventDefault();
  }

  function onPointerDown(event) {
    if (!state.geo) return;
    if (state.pickMode && event.button === 0) {
      event.preventDefault();
      ctx.marks.pick(event);
      return;
    }
    const kind = event.button === 0 ? (event.shiftKey ? "pan" : state.leftDrag)
      : event.button === 2 ? (state.leftDrag === "wl" ? "pan" : "wl") : event.button === 1 ? "pan" : null;
    if (!kind) return;
    event.preventDefault();
    root.focus({ preventScroll: true });
    stage.setPointerCapture(event.pointerId);
    drag = { kind, x: event.clientX, y: event.clientY, window: { ...state.window }, pan: [...state.pan] };
  }

  function onPointerMove(event) {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (drag.kind === "pan") {
      state.pan = [drag.pan[0] + dx, drag.pan[1] + dy];
      ctx.render.schedule();
    } else {
      // Sensitivity follows the window: fine control on a brain window, fast on a lung window.
      const k = Math.max(0.5, drag.window.width / 300);
      ctx.render.setWindow(drag.window.center - dy * k, drag.window.width + dx * k);
    }
  }

  function onPointerUp(event) {
    if (drag && stage.hasPointerCapture(event.pointerId)) stage.releasePointerCapture(event.pointerId);
    drag = null;
  }

  const listeners = [
    [stage, "wheel", onWheel, { passive: false }],
    [root, "keydown", onKey],
    [stage, "pointerdown", onPointerDown],
    [stage, "pointermove", onPointerMove],
    [stage, "pointerup", onPointerUp],
    [stage, "pointercancel", onPointerUp],
    [stage, "contextmenu", (event) => event.preventDefault()],
    [slider, "input", () => ctx.setIndex(Number(slider.value) - 1)],
    [seriesSelect, "change", () => { ctx.loadSeries(Number(seriesSelect.value)).catch(() => {}); }],
    [presetBox, "click", (event) => { if (event.target.dataset.preset) ctx.setPreset(event.target.dataset.preset); }],
    [modeButton, "click", () => {
      state.leftDrag = state.leftDrag === "wl" ? "pan" : "wl";
      modeButton.textContent = state.leftDrag === "wl" ? "Drag: W/L" : "Drag: Pan";
    }],
    [zoomIn, "click", () => ctx.render.zoomAt(1.25)],
    [zoomOut, "click", () => ctx.render.zoomAt(1 / 1.25)],
    [resetButton, "click", () => ctx.render.reset()],
    [legend, "pointerdown", (event) => event.stopPropagation()], // clicks here are not drags
    [overlayCheckbox, "change", () => ctx.seg.setVisible(overlayCheckbox.checked)],
    [legendList, "change", (event) => ctx.seg.setSegmentVisible(Number(event.target.dataset.segment),
      event.target.checked)],
    [findingsList, "click", (event) => {
      const id = event.target.dataset && event.target.dataset.markId;
      if (id) ctx.marks.jumpTo(id);
    }],
  ];

  function attach() {
    for (const [target, type, handler, opts] of listeners) target.addEventListener(type, handler, opts);
    const resizer = new ResizeObserver(() => ctx.render.schedule());
    resizer.observe(stage);
    return () => {
      for (const [target, type, handler, opts] of listeners) target.removeEventListener(type, handler, opts);
      resizer.disconnect();
    };
  }

  return { attach };
}
