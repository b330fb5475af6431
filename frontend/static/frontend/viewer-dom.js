// The viewer's elements: toolbar, stage (canvas, corner texts, segmentation legend), findings list
// and slice slider. Class names are the viewer's contract with viewer.css and the pages' tests.

import { el } from "./viewer-util.js";

function ensureStylesheet() {
  const href = new URL("./viewer.css", import.meta.url).href;
  if ([...document.querySelectorAll("link[rel=stylesheet]")].some((link) => link.href === href)) return;
  const link = el("link");
  link.rel = "stylesheet";
  link.href = href;
  document.head.appendChild(link);
}

export function buildViewerDom(container) {
  ensureStylesheet();
  const root = el("div", "viewer");
  root.tabIndex = 0;
  const toolbar = el("div", "viewer-toolbar");
  const seriesSelect = el("select", "viewer-series");
  seriesSelect.title = "Series";
  const presetBox = el("span", "viewer-presets");
  const modeButton = el("button", "viewer-mode", "Drag: W/L");
  modeButton.type = "button";
  modeButton.title = "What the left button drags (the right button does the other)";
  const zoomOut = el("button", "viewer-zoom-out", "−");
  const zoomIn = el("button", "viewer-zoom-in", "+");
  const resetButton = el("button", "viewer-reset", "Reset");
  for (const b of [zoomOut, zoomIn, resetButton]) b.type = "button";
  zoomOut.title = "Zoom out (Ctrl+wheel)";
  zoomIn.title = "Zoom in (Ctrl+wheel)";
  toolbar.append(seriesSelect, presetBox, modeButton, zoomOut, zoomIn, resetButton);

  const body = el("div", "viewer-body");
  const stage = el("div", "viewer-stage");
  const canvas = el("canvas", "viewer-canvas");
  const overlay = {
    series: el("div", "viewer-ov viewer-ov-tl"),
    zoom: el("div", "viewer-ov viewer-ov-tr"),
    slice: el("div", "viewer-ov viewer-ov-bl viewer-slice"),
    window: el("div", "viewer-ov viewer-ov-br viewer-window"),
    message: el("div", "viewer-message"),
    progress: el("div", "viewer-progress"),
    failed: el("div", "viewer-failed"),
  };
  // The AI segmentations' legend: one switch for all (key O), one per segment.
  const legend = el("div", "viewer-legend");
  legend.hidden = true;
  const legendToggle = el("label", "viewer-legend-toggle");
  const overlayCheckbox = el("input", "viewer-overlay-toggle");
  overlayCheckbox.type = "checkbox";
  overlayCheckbox.checked = true;
  legendToggle.append(overlayCheckbox, " Segmentation (O)");
  legendToggle.title = "Show the AI segmentation (key O)";
  const legendList = el("ul", "viewer-legend-list");
  legend.append(legendToggle, legendList);
  stage.append(canvas, ...Object.values(overlay), legend);
  const findingsList = el("ol", "viewer-findings");
  body.append(stage, findingsList);
  const slider = el("input", "viewer-slider");
  slider.type = "range";
  slider.min = "1";
  slider.max = "1";
  slider.value = "1";
  slider.title = "Slice";
  root.append(toolbar, body, slider);
  container.appendChild(root);
  return { root, seriesSelect, presetBox, modeButton, zoomOut, zoomIn, resetButton, stage, canvas, overlay, legend,
    overlayCheckbox, legendList, findingsList, slider };
}
