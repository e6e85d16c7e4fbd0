#!/usr/bin/env node
// Regenerates Berth's icons as PNG with nothing but node:zlib, so the icons are reproducible
// from this file: `node assets/make-icons.mjs`. The glyph is a hexagon ring (a nod to IPFS)
// around a dot (the mounted folder), drawn from signed distance functions with 4x4
// supersampling for smooth edges.
//
// Outputs (in assets/), each tray image at 16 px with an @2x (32 px) sibling that
// Electron's nativeImage picks up on high-DPI screens:
//   tray-<state>-light.png   black glyph, for LIGHT panels/menu bars
//   tray-<state>-dark.png    white glyph, for DARK panels/menu bars
//   tray<State>Template.png  macOS template images (black + alpha; the menu bar tints them);
//                            the ok state is plain trayTemplate.png
//   icon.png                 512x512 app icon (electron-builder makes icns/ico from it)
// States (UI.md "Tray"): ok (the glyph), attention (something failed: a filled badge,
// red where colour is allowed), busy (mounting or unmounting: a hollow badge, blue). The
// badges differ in shape, not only colour, so template images and colour-blind eyes
// tell them apart.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const here = new URL('./', import.meta.url);

// ---- PNG encoding (RFC 2083): signature, IHDR, one IDAT, IEND ----
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encodes RGBA pixels (Uint8Array of size*size*4) as an 8-bit RGBA PNG. */
function encodePng(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    Buffer.from(rgba.buffer, y * size * 4, size * 4).copy(raw, y * (size * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- Shapes, in unit coordinates centred on 0 (the icon spans -0.5..0.5) ----

/** Signed distance to a regular hexagon with apothem r (negative inside). */
function sdHexagon(x, y, r) {
  const kx = -0.866025404;
  const ky = 0.5;
  const kz = 0.577350269;
  let px = Math.abs(y); // rotate 90°: pointy top, like the IPFS cube outline
  let py = Math.abs(x);
  const d = 2 * Math.min(kx * px + ky * py, 0);
  px -= d * kx;
  py -= d * ky;
  px -= Math.min(Math.max(px, -kz * r), kz * r);
  py -= r;
  return Math.hypot(px, py) * Math.sign(py);
}

/** Signed distance to a rounded square of half-size h and corner radius c. */
function sdRoundSquare(x, y, h, c) {
  const qx = Math.abs(x) - h + c;
  const qy = Math.abs(y) - h + c;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - c;
}

/** True where the glyph is: a hexagon ring around a dot, scaled by s. */
function glyph(x, y, s) {
  const ring = sdHexagon(x / s, y / s, 0.4);
  return (ring <= 0 && ring >= -0.11) || Math.hypot(x / s, y / s) <= 0.15;
}

/** Renders size x size pixels; paint(x, y) returns [r, g, b, a] (0..255) or null. */
function render(size, paint) {
  const rgba = new Uint8Array(size * size * 4);
  const n = 4; // supersamples per axis
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const x = (px + (sx + 0.5) / n) / size - 0.5;
          const y = (py + (sy + 0.5) / n) / size - 0.5;
          const c = paint(x, y);
          if (!c) continue;
          const ca = c[3] / 255;
          r += c[0] * ca;
          g += c[1] * ca;
          b += c[2] * ca;
          a += ca;
        }
      }
      const i = (py * size + px) * 4;
      const coverage = a / (n * n);
      rgba[i] = a ? Math.round(r / a) : 0; // un-premultiply
      rgba[i + 1] = a ? Math.round(g / a) : 0;
      rgba[i + 2] = a ? Math.round(b / a) : 0;
      rgba[i + 3] = Math.round(coverage * 255);
    }
  }
  return encodePng(size, rgba);
}

/** Where the state badge sits (bottom right), its radius, and the clear gap around it. */
const BADGE = { x: 0.29, y: 0.29, r: 0.2, ring: 0.085, gap: 0.07 };

/** A tray glyph in `rgb`, with an optional badge: `filled` (attention) or `ring` (busy). */
function trayIcon(size, rgb, badge) {
  return render(size, (x, y) => {
    if (badge) {
      const d = Math.hypot(x - BADGE.x, y - BADGE.y);
      if (d <= BADGE.r && (badge.kind === 'filled' || d >= BADGE.r - BADGE.ring)) return [...badge.rgb, 255];
      if (d <= BADGE.r + BADGE.gap) return null;
    }
    return glyph(x, y, 0.98) ? [...rgb, 255] : null;
  });
}

const BLACK = [0, 0, 0];
const WHITE = [255, 255, 255];
/** Badge colours where the panel shows colour: red for attention, blue for busy (readable on light and dark). */
const TRAY_STATES = {
  ok: { light: undefined, dark: undefined, template: undefined },
  attention: {
    light: { kind: 'filled', rgb: [214, 40, 40] },
    dark: { kind: 'filled', rgb: [255, 95, 87] },
    template: { kind: 'filled', rgb: BLACK },
  },
  busy: {
    light: { kind: 'ring', rgb: [30, 110, 220] },
    dark: { kind: 'ring', rgb: [90, 160, 255] },
    template: { kind: 'ring', rgb: BLACK },
  },
};

function trayOutputs() {
  const out = {};
  for (const [state, badges] of Object.entries(TRAY_STATES)) {
    const templateName = state === 'ok' ? 'trayTemplate' : `tray${state[0].toUpperCase()}${state.slice(1)}Template`;
    for (const [suffix, size] of [['', 16], ['@2x', 32]]) {
      out[`tray-${state}-light${suffix}.png`] = trayIcon(size, BLACK, badges.light);
      out[`tray-${state}-dark${suffix}.png`] = trayIcon(size, WHITE, badges.dark);
      out[`${templateName}${suffix}.png`] = trayIcon(size, BLACK, badges.template);
    }
  }
  return out;
}

function appIcon(size) {
  const top = [38, 132, 140];
  const bottom = [18, 78, 92];
  return render(size, (x, y) => {
    if (sdRoundSquare(x, y, 0.44, 0.1) > 0) return null;
    if (glyph(x, y, 0.62)) return [255, 255, 255, 255];
    const t = y + 0.5;
    return [0, 1, 2].map((i) => Math.round(top[i] + (bottom[i] - top[i]) * t)).concat(255);
  });
}

const outputs = {
  ...trayOutputs(),
  'icon.png': appIcon(512),
};
for (const [name, png] of Object.entries(outputs)) {
  writeFileSync(new URL(name, here), png);
  console.log(`assets/${name}  ${png.length} bytes`);
}
