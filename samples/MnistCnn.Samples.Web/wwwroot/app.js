'use strict';

// Drawing pad: white ink on black, as MNIST's digits are. Every change is sent to POST /api/predict as a
// PNG, at most one request at a time: while one is on its way, later strokes wait and the newest drawing
// goes next. The result panel's data-state says whether what it shows belongs to the current drawing
// ("ready") or an earlier one ("pending").
(() => {
  const pad = document.getElementById('pad');
  const context = pad.getContext('2d');
  const result = document.getElementById('result');
  const digit = document.getElementById('digit');
  const summary = document.getElementById('summary');
  const bars = document.getElementById('bars');
  const clearButton = document.getElementById('clear');

  // The footer's curl example names the address this page was served from, whatever --urls said.
  document.getElementById('api-url').textContent = new URL('api/predict', document.baseURI).href;

  // Which model answers: /readyz names it; asked again whenever an answer's X-Model-Sha256 says it was replaced.
  const modelLabel = document.getElementById('model');
  let modelSha = '';
  async function showModel() {
    try {
      const ready = await (await fetch('readyz')).json();
      modelSha = ready.model.sha256;
      modelLabel.textContent = `${ready.model.architecture} (${ready.model.name}, SHA-256 ${modelSha.slice(0, 12)}…)`;
    } catch {
      modelLabel.textContent = 'the served model';
    }
  }
  showModel();

  const inkWidth = pad.width / 13;   // MNIST strokes are about a tenth of the digit's height.
  const delayMs = 120;               // Pause after a change before a drawing is sent.

  let version = 0;                   // Bumped by every change to the drawing.
  let hasInk = false;
  let inFlight = false;
  let timer = 0;
  let last = null;                   // Previous point of the stroke being drawn.

  const rows = Array.from({ length: 10 }, (_, d) => {
    const row = document.createElement('li');
    row.innerHTML = `<span class="label">${d}</span><span class="track"><span class="fill"></span></span><span class="value">–</span>`;
    bars.append(row);
    return { row, fill: row.querySelector('.fill'), value: row.querySelector('.value') };
  });

  function clearPad() {
    context.fillStyle = '#000';
    context.fillRect(0, 0, pad.width, pad.height);
    hasInk = false;
    version++;
    clearTimeout(timer);
    showEmpty();
  }

  function showEmpty() {
    result.dataset.state = 'empty';
    result.classList.remove('unsure');
    digit.textContent = '–';
    summary.textContent = 'Draw a digit to start.';
    for (const { row, fill, value } of rows) {
      row.classList.remove('top');
      fill.style.width = '0';
      value.textContent = '–';
      row.setAttribute('aria-label', `${row.firstChild.textContent}: no prediction yet`);
    }
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
    if (last === null) {
      context.beginPath();
      context.arc(p.x, p.y, inkWidth / 2, 0, 2 * Math.PI);
      context.fill();
    } else {
      context.beginPath();
      context.moveTo(last.x, last.y);
      context.lineTo(p.x, p.y);
      context.stroke();
    }
    last = p;
    hasInk = true;
    changed();
  }

  pad.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    last = null;
    drawTo(point(event));
  });

  pad.addEventListener('pointermove', (event) => {
    if (last === null || !pad.hasPointerCapture(event.pointerId)) return;
    // Coalesced events keep fast strokes smooth where the browser batches pointer moves.
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const e of (events.length ? events : [event])) drawTo(point(e));
  });

  for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) {
    pad.addEventListener(type, () => { last = null; });
  }

  clearButton.addEventListener('click', clearPad);
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') clearPad();
  });

  function changed() {
    version++;
    if (result.dataset.state !== 'empty') result.dataset.state = 'pending';
    clearTimeout(timer);
    timer = setTimeout(send, delayMs);
  }

  async function send() {
    if (inFlight || !hasInk) return;
    inFlight = true;
    const sent = version;
    try {
      const png = await new Promise((resolve) => pad.toBlob(resolve, 'image/png'));
      const response = await fetch('api/predict', {
        method: 'POST',
        headers: { 'Content-Type': 'image/png' },
        body: png,
      });
      const body = await response.json().catch(() => ({}));
      const answeredBy = response.headers.get('X-Model-Sha256');
      if (answeredBy && answeredBy !== modelSha) {
        showModel();
      }
      if (!hasInk) return;   // Cleared meanwhile.
      if (response.ok && Array.isArray(body.probabilities)) {
        show(body, sent === version);
      } else {
        // Refusals are problem details (application/problem+json): show what the server said.
        showError(body.detail || body.title || `The server answered ${response.status}.`);
      }
    } catch (error) {
      if (hasInk) showError(`The server could not be reached (${error.message}).`);
    } finally {
      inFlight = false;
      // Strokes drawn while the request was on its way: send the newest drawing now.
      if (hasInk && sent !== version) send();
    }
  }

  function show(prediction, current) {
    const percent = (p) => `${(p * 100).toFixed(p >= 0.995 || p < 0.0005 ? 0 : 1)}%`;
    result.dataset.state = current ? 'ready' : 'pending';
    result.classList.toggle('unsure', prediction.isLikelyDigit === false);
    digit.textContent = String(prediction.digit);
    summary.textContent = prediction.isLikelyDigit === false
      ? `Looks most like a ${prediction.digit} (${percent(prediction.confidence)}), but may not be a digit at all.`
      : `${percent(prediction.confidence)} sure.`;
    prediction.probabilities.forEach((p, d) => {
      const { row, fill, value } = rows[d];
      row.classList.toggle('top', d === prediction.digit);
      fill.style.width = `${(p * 100).toFixed(1)}%`;
      value.textContent = percent(p);
      row.setAttribute('aria-label', `${d}: ${percent(p)}`);
    });
  }

  function showError(message) {
    result.dataset.state = 'error';
    digit.textContent = '!';
    summary.textContent = message;
  }

  clearPad();
})();
