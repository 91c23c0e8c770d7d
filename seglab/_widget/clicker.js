// Frontend of seglab.widgets.SamClicker (an anywidget ES module; no build step, no imports).
//
// The browser only draws and reports events; every decision is made in Python.
//
//   browser -> Python  model.send({type: "hello", inflate})               once per view: can
//                                                                     this browser inflate?
//                      model.send({type: "click", x, y, button, shift})   x, y: image pixels
//                      model.send({type: "box", x0, y0, x1, y1})          image pixels
//                      model.send({type: "undo" | "reset"})
//                      model.send({type: "select", index})                which of the K masks
//                      model.send({type: "mode", mode: "positive" | "negative"})
//   Python -> browser  synced traits: image_png (bytes, once), width, height, display_width,
//                      mask_bits (bytes: the selected mask, np.packbits, row-major, MSB first;
//                      zlib-deflated when mask_encoding is "packbits+deflate", which Python
//                      uses only after every view said hello with inflate: true),
//                      points [[x, y, label]], box [x0, y0, x1, y1] or [], scores, areas,
//                      selected, status, mode, can_undo, revision; the colours [r, g, b]
//                      color (the mask), positive_color, negative_color and box_color, set
//                      from seglab._colors (one Python constant each, never repeated here).
//
// Coordinates: the image is drawn scaled to the cell; (x, y) sent to Python are in pixels of
// the ORIGINAL image (x = column, y = row), so Python never needs to know the display size.

const DRAG_THRESHOLD_PX = 4; // a press that moves less than this (CSS px) is a click

const NO_KERNEL_MS = 5000;
const NO_KERNEL_TEXT =
  "Not connected to Python (the kernel stopped, or the notebook was reopened): " +
  "run this cell again to use the widget.";

function cssColor(rgb) {
  // a colour trait [r, g, b] (0-255) as CSS
  const [r, g, b] = rgb;
  return `rgb(${r}, ${g}, ${b})`;
}

function asBytes(value) {
  // Bytes traits arrive as DataView (ipywidgets 7 and 8); be liberal in what we accept.
  if (!value) return new Uint8Array(0);
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  return new Uint8Array(0);
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function drawStar(ctx, x, y, r, fill) {
  ctx.beginPath();
  for (let i = 0; i < 10; i++) {
    const radius = i % 2 === 0 ? r : r * 0.45;
    const angle = -Math.PI / 2 + (i * Math.PI) / 5;
    const px = x + radius * Math.cos(angle);
    const py = y + radius * Math.sin(angle);
    if (i === 0) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
  }
  ctx.closePath();
  ctx.fillStyle = fill;
  ctx.fill();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = "white";
  ctx.stroke();
}

function drawCross(ctx, x, y, r, stroke) {
  const h = r * 0.75;
  ctx.lineCap = "round";
  for (const [width, color] of [
    [r * 0.75, "white"],
    [r * 0.45, stroke],
  ]) {
    ctx.beginPath();
    ctx.moveTo(x - h, y - h);
    ctx.lineTo(x + h, y + h);
    ctx.moveTo(x + h, y - h);
    ctx.lineTo(x - h, y + h);
    ctx.lineWidth = width;
    ctx.strokeStyle = color;
    ctx.stroke();
  }
}

function render({ model, el }) {
  const root = element("div", "seglab-clicker");
  el.appendChild(root);

  // ---- toolbar: mode, undo, reset, mask choice
  const toolbar = element("div", "seglab-clicker-toolbar");
  const positiveButton = element("button", "seglab-clicker-mode", "+ positive");
  positiveButton.title = "a click adds a positive point: part of the object";
  const negativeButton = element("button", "seglab-clicker-mode", "− negative");
  negativeButton.title = "a click adds a negative point: not part of the object";
  const undoButton = element("button", "seglab-clicker-undo", "undo");
  undoButton.title = "remove the last point or box";
  const resetButton = element("button", "seglab-clicker-reset", "reset");
  resetButton.title = "remove every point and the box";
  const newButton = element("button", "seglab-clicker-new", "new object");
  newButton.title = "keep this object and start the next one (key N, pointer on the image)";
  const masksBox = element("span", "seglab-clicker-masks");
  toolbar.append(positiveButton, negativeButton, undoButton, resetButton, newButton, masksBox);

  // ---- the image, the mask layer and the prompt layer, stacked
  const stage = element("div", "seglab-clicker-stage");
  // a right-click on the image is a negative point: JupyterLab skips its own context menu
  // (Delete Cell, Restart Kernel...) for targets inside this attribute; preventDefault below
  // stops the browser's
  stage.setAttribute("data-jp-suppress-context-menu", "");
  const picture = element("img", "seglab-clicker-image");
  picture.alt = "image to segment";
  picture.draggable = false;
  const maskCanvas = element("canvas", "seglab-clicker-mask");
  const promptCanvas = element("canvas", "seglab-clicker-prompts");
  stage.append(picture, maskCanvas, promptCanvas);

  const hint = element(
    "div",
    "seglab-clicker-hint",
    "click: point · shift-click or right-click: the other kind · drag: box · " +
      "N (pointer on the image): new object",
  );
  const status = element("div", "seglab-clicker-status");
  root.append(toolbar, stage, status, hint);

  let pictureUrl = null;
  let drag = null; // {x0, y0, x1, y1, cx, cy, moved, button, shift} while a button is down

  // ---- Python -> browser

  function loadImage() {
    if (pictureUrl) URL.revokeObjectURL(pictureUrl);
    const bytes = asBytes(model.get("image_png"));
    pictureUrl = URL.createObjectURL(new Blob([bytes], { type: "image/png" }));
    picture.src = pictureUrl;
    const width = model.get("width");
    const height = model.get("height");
    maskCanvas.width = width;
    maskCanvas.height = height;
    stage.style.width = `${model.get("display_width")}px`;
    stage.style.aspectRatio = `${width} / ${height}`;
  }

  async function maskBits() {
    // the selected mask as packed bits; inflated first when Python deflated it
    const raw = asBytes(model.get("mask_bits"));
    const encoding = model.get("mask_encoding");
    if (encoding !== "packbits+deflate" || raw.length === 0) return [raw, encoding];
    const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream("deflate"));
    return [new Uint8Array(await new Response(stream).arrayBuffer()), encoding];
  }

  async function drawMask() {
    const width = model.get("width");
    const height = model.get("height");
    const [bits, encoding] = await maskBits();
    const ctx = maskCanvas.getContext("2d");
    ctx.clearRect(0, 0, width, height);
    let count = 0;
    if (bits.length * 8 >= width * height && width * height > 0) {
      const n = width * height;
      const inside = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        if (bits[i >> 3] & (128 >> (i & 7))) {
          inside[i] = 1;
          count++;
        }
      }
      const [r, g, b] = model.get("color");
      const layer = ctx.createImageData(width, height);
      const data = layer.data;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const i = y * width + x;
          if (!inside[i]) continue;
          // an edge pixel has a 4-neighbour outside the mask: the outline, drawn in black
          // and white dashes ("marching ants") so that it shows on an object of any colour,
          // the mask's own colour included
          const edge =
            (x > 0 && !inside[i - 1]) ||
            (x < width - 1 && !inside[i + 1]) ||
            (y > 0 && !inside[i - width]) ||
            (y < height - 1 && !inside[i + width]);
          const ant = edge ? (((x + y) >> 1) & 1) * 255 : 0;
          data[4 * i] = edge ? ant : r;
          data[4 * i + 1] = edge ? ant : g;
          data[4 * i + 2] = edge ? ant : b;
          data[4 * i + 3] = edge ? 255 : 128;
        }
      }
      ctx.putImageData(layer, 0, 0);
    }
    root.dataset.maskPixels = String(count);
    root.dataset.maskEncoding = encoding;
  }

  function drawPrompts() {
    const rect = stage.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    const cssWidth = Math.max(1, Math.round(rect.width));
    const cssHeight = Math.max(1, Math.round(rect.height));
    promptCanvas.width = cssWidth * ratio;
    promptCanvas.height = cssHeight * ratio;
    const ctx = promptCanvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, cssWidth, cssHeight);
    const sx = cssWidth / model.get("width");
    const sy = cssHeight / model.get("height");
    const box = drag && drag.moved ? [drag.x0, drag.y0, drag.x1, drag.y1] : model.get("box");
    if (box && box.length === 4) {
      const x0 = Math.min(box[0], box[2]) * sx;
      const y0 = Math.min(box[1], box[3]) * sy;
      const w = Math.abs(box[2] - box[0]) * sx;
      const h = Math.abs(box[3] - box[1]) * sy;
      ctx.lineWidth = 2;
      ctx.strokeStyle = "white";
      ctx.setLineDash(drag && drag.moved ? [6, 4] : []);
      ctx.strokeRect(x0, y0, w, h);
      ctx.strokeStyle = cssColor(model.get("box_color"));
      ctx.setLineDash(drag && drag.moved ? [6, 4] : [8, 0]);
      ctx.strokeRect(x0 + 1, y0 + 1, Math.max(0, w - 2), Math.max(0, h - 2));
      ctx.setLineDash([]);
    }
    const positive = cssColor(model.get("positive_color"));
    const negative = cssColor(model.get("negative_color"));
    for (const [x, y, label] of model.get("points")) {
      // a point (x, y) is the pixel whose centre is at (x + 0.5, y + 0.5)
      const px = (x + 0.5) * sx;
      const py = (y + 0.5) * sy;
      if (label === 1) drawStar(ctx, px, py, 10, positive);
      else drawCross(ctx, px, py, 9, negative);
    }
    root.dataset.points = String(model.get("points").length);
  }

  function updateControls() {
    const negative = model.get("mode") === "negative";
    positiveButton.classList.toggle("seglab-clicker-active", !negative);
    negativeButton.classList.toggle("seglab-clicker-active", negative);
    root.dataset.mode = model.get("mode");
    undoButton.disabled = !model.get("can_undo");
    const scores = model.get("scores");
    const areas = model.get("areas");
    const selected = model.get("selected");
    masksBox.replaceChildren();
    if (scores.length > 1) {
      scores.forEach((score, index) => {
        const label = `masks[${index}] ${score.toFixed(2)}`;
        const button = element("button", "seglab-clicker-choice", label);
        button.title = `use mask ${index}: score ${score.toFixed(3)}, ${areas[index]} px`;
        button.classList.toggle("seglab-clicker-active", index === selected);
        button.addEventListener("click", () => send({ type: "select", index }));
        masksBox.appendChild(button);
      });
    }
  }

  function updateStatus(text, revision) {
    clearTimeout(unanswered);
    delete root.dataset.dead;
    status.textContent = text;
    root.classList.remove("seglab-clicker-busy");
    root.dataset.revision = String(revision); // set last: the view now shows this revision
  }

  // Python answers every message by changing the revision. No answer within
  // NO_KERNEL_MS: the kernel has stopped, or the notebook was reopened without running the
  // cell (then this is a picture of the saved state, and clicks go nowhere). Say so.
  let unanswered = null;
  function expectAnswer() {
    clearTimeout(unanswered);
    unanswered = setTimeout(() => {
      status.textContent = NO_KERNEL_TEXT;
      root.classList.remove("seglab-clicker-busy");
      root.dataset.dead = "true";
    }, NO_KERNEL_MS);
  }

  function send(message) {
    root.classList.add("seglab-clicker-busy");
    expectAnswer();
    model.send(message);
  }

  // ---- browser -> Python

  function imagePoint(event) {
    // CSS pixels inside the stage -> continuous coordinates in the original image's pixels
    const rect = stage.getBoundingClientRect();
    return {
      x: ((event.clientX - rect.left) * model.get("width")) / rect.width,
      y: ((event.clientY - rect.top) * model.get("height")) / rect.height,
    };
  }

  function clamp(value, high) {
    return Math.min(Math.max(value, 0), high);
  }

  function onPointerDown(event) {
    if (event.button !== 0 && event.button !== 2) return;
    event.preventDefault();
    const p = imagePoint(event);
    drag = {
      x0: p.x,
      y0: p.y,
      x1: p.x,
      y1: p.y,
      cx: event.clientX,
      cy: event.clientY,
      moved: false,
      button: event.button,
      shift: event.shiftKey,
    };
    stage.setPointerCapture(event.pointerId);
  }

  function onPointerMove(event) {
    if (!drag) return;
    const distance = Math.hypot(event.clientX - drag.cx, event.clientY - drag.cy);
    if (!drag.moved && distance < DRAG_THRESHOLD_PX) return;
    drag.moved = true;
    const p = imagePoint(event);
    drag.x1 = clamp(p.x, model.get("width"));
    drag.y1 = clamp(p.y, model.get("height"));
    drawPrompts();
  }

  function onPointerUp(event) {
    if (!drag) return;
    const done = drag;
    drag = null;
    if (stage.hasPointerCapture(event.pointerId)) stage.releasePointerCapture(event.pointerId);
    if (done.moved) {
      send({ type: "box", x0: done.x0, y0: done.y0, x1: done.x1, y1: done.y1 });
    } else {
      send({ type: "click", x: done.x0, y: done.y0, button: done.button, shift: done.shift });
    }
    drawPrompts();
  }

  function onPointerCancel() {
    drag = null;
    drawPrompts();
  }

  const preventMenu = (event) => event.preventDefault();
  stage.addEventListener("pointerdown", onPointerDown);
  stage.addEventListener("pointermove", onPointerMove);
  stage.addEventListener("pointerup", onPointerUp);
  stage.addEventListener("pointercancel", onPointerCancel);
  stage.addEventListener("contextmenu", preventMenu);
  positiveButton.addEventListener("click", () => send({ type: "mode", mode: "positive" }));
  negativeButton.addEventListener("click", () => send({ type: "mode", mode: "negative" }));
  undoButton.addEventListener("click", () => send({ type: "undo" }));
  resetButton.addEventListener("click", () => send({ type: "reset" }));
  newButton.addEventListener("click", () => send({ type: "new_object" }));
  // N starts a new object while the pointer is over the image. Taking the keyboard focus
  // instead would make JupyterLab scroll the notebook to the cell, moving the image under the
  // mouse. Listening on the window in the capture phase runs before JupyterLab's shortcuts.
  let hovering = false;
  stage.addEventListener("pointerenter", () => (hovering = true));
  stage.addEventListener("pointerleave", () => (hovering = false));
  function onKeyDown(event) {
    if (!hovering || (event.key !== "n" && event.key !== "N")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA)$/.test(target.tagName))) return;
    event.preventDefault();
    event.stopPropagation();
    send({ type: "new_object" });
  }
  window.addEventListener("keydown", onKeyDown, true);

  // Python sends all changes of one event in one message; Backbone then fires one
  // change:<name> per trait, synchronously. Collect them and redraw once, in a microtask;
  // redraws run one after the other (inflating a mask is asynchronous).
  const dirty = new Set();
  let scheduled = false;
  let redraws = Promise.resolve();
  async function redraw() {
    scheduled = false;
    const parts = new Set(dirty);
    dirty.clear();
    const text = model.get("status");
    const revision = model.get("revision");
    if (parts.has("image")) loadImage();
    if (parts.has("image") || parts.has("mask")) await drawMask();
    if (parts.has("image") || parts.has("prompts")) drawPrompts();
    if (parts.has("controls")) updateControls();
    if (parts.has("status")) updateStatus(text, revision);
  }
  function schedule(part) {
    dirty.add(part);
    if (!scheduled) {
      scheduled = true;
      redraws = redraws.then(redraw).catch((error) => console.error("seglab clicker:", error));
    }
  }
  const PARTS = {
    image_png: "image",
    width: "image",
    height: "image",
    display_width: "image",
    mask_bits: "mask",
    mask_encoding: "mask",
    color: "mask",
    points: "prompts",
    box: "prompts",
    positive_color: "prompts",
    negative_color: "prompts",
    box_color: "prompts",
    scores: "controls",
    areas: "controls",
    selected: "controls",
    mode: "controls",
    can_undo: "controls",
    status: "status",
    revision: "status",
  };
  const listeners = Object.entries(PARTS).map(([name, part]) => {
    const listener = () => schedule(part);
    model.on(`change:${name}`, listener);
    return [name, listener];
  });
  const resize = new ResizeObserver(() => drawPrompts());
  resize.observe(stage);

  for (const part of ["image", "controls", "status"]) schedule(part);
  expectAnswer(); // Python answers hello by bumping the revision
  model.send({ type: "hello", inflate: typeof DecompressionStream !== "undefined" });

  return () => {
    resize.disconnect();
    clearTimeout(unanswered);
    window.removeEventListener("keydown", onKeyDown, true);
    for (const [name, listener] of listeners) model.off(`change:${name}`, listener);
    if (pictureUrl) URL.revokeObjectURL(pictureUrl);
  };
}

export default { render };
