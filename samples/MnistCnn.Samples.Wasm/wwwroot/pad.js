// Drawing pad: white ink on black, as MNIST's digits are. After each change the pad's grey pixels go to the
// DigitPad component (.NET in this tab), at most one prediction at a time: strokes drawn meanwhile wait and the
// newest drawing goes next. Nothing leaves the page.
const inkDelayMs = 30;   // Pause after a change before the drawing is classified (coalesces pointer moves).
const pads = new WeakMap();

export function attach(pad, clearButton, dotnet) {
  const context = pad.getContext('2d', { willReadFrequently: true });
  const inkWidth = pad.width / 13;   // MNIST strokes are about a tenth of the digit's height.
  let version = 0;                   // Bumped by every change to the drawing.
  let shownVersion = -1;             // The drawing whose answer the page shows.
  let hasInk = false;
  let busy = false;
  let timer = 0;
  let last = null;                   // Previous point of the stroke being drawn.

  function clearPad() {
    context.fillStyle = '#000';
    context.fillRect(0, 0, pad.width, pad.height);
    hasInk = false;
    version++;
    clearTimeout(timer);
    dotnet.invokeMethod('ShowEmpty');
  }

  function point(event) {
    const box = pad.getBoundingClientRect();
    return {
      x: (event.clientX - box.left) * (pad.width / box.width),
      y: (event.clientY - box.top) * (pad.height / box.height),
    };
  }

  function drawTo(p) {
    context.strokeStyle = '#fff';
    context.fillStyle = '#fff';
    context.lineWidth = inkWidth;
    context.lineCap = 'round';
    context.lineJoin = 'round';
    context.beginPath();
    if (last === null) {
      context.arc(p.x, p.y, inkWidth / 2, 0, 2 * Math.PI);
      context.fill();
    } else {
      context.moveTo(last.x, last.y);
      context.lineTo(p.x, p.y);
      context.stroke();
    }
    last = p;
    hasInk = true;
    if (shownVersion === version) dotnet.invokeMethod('ShowPending');
    version++;
    clearTimeout(timer);
    timer = setTimeout(classify, inkDelayMs);
  }

  // The pad's pixels as grey bytes, one per pixel: the red channel, since the pad holds only greys.
  function greyPixels() {
    const rgba = context.getImageData(0, 0, pad.width, pad.height).data;
    const grey = new Uint8Array(pad.width * pad.height);
    for (let i = 0; i < grey.length; i++) grey[i] = rgba[4 * i];
    return grey;
  }

  async function classify() {
    if (busy || !hasInk) return;
    busy = true;
    const drawing = version;
    try {
      await dotnet.invokeMethodAsync('Predict', greyPixels(), pad.width, pad.height);
      shownVersion = drawing;
    } finally {
      busy = false;
      // Strokes drawn while the answer was computed: classify the newest drawing now.
      if (hasInk && drawing !== version) classify();
    }
  }

  const listeners = {
    pointerdown(event) {
      if (event.button !== 0) return;
      event.preventDefault();
      pad.setPointerCapture(event.pointerId);
      last = null;
      drawTo(point(event));
    },
    pointermove(event) {
      if (last === null || !pad.hasPointerCapture(event.pointerId)) return;
      // Coalesced events keep fast strokes smooth where the browser batches pointer moves.
      const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      for (const e of (events.length ? events : [event])) drawTo(point(e));
    },
    pointerup() { last = null; },
    pointercancel() { last = null; },
    lostpointercapture() { last = null; },
  };
  for (const [type, listener] of Object.entries(listeners)) pad.addEventListener(type, listener);
  const onKey = (event) => { if (event.key === 'Escape') clearPad(); };
  clearButton.addEventListener('click', clearPad);
  document.addEventListener('keydown', onKey);
  pads.set(pad, () => {
    clearTimeout(timer);
    for (const [type, listener] of Object.entries(listeners)) pad.removeEventListener(type, listener);
    clearButton.removeEventListener('click', clearPad);
    document.removeEventListener('keydown', onKey);
  });

  clearPad();
  // From here on a drawing is classified: the moment the page is first able to predict.
  performance.mark('digit-pad-ready');
  pad.dataset.ready = 'true';
}

export function detach(pad) {
  pads.get(pad)?.();
  pads.delete(pad);
}
