// @ts-check
/**
 * A small QR code encoder (ISO/IEC 18004), written for this project: the attendee's code of an
 * activity (8 characters) is shown as a QR code the organiser scans, drawn by the page itself —
 * no WeChat call, and it works offline at the venue.
 *
 * Error correction level M (15% of the symbol may be damaged), versions 1–10 (up to 213 bytes),
 * the whole text in one segment of the densest mode that holds it: numeric, alphanumeric
 * (0–9, A–Z, space and $%*+-./:) or bytes (UTF-8). The mask is the one of least penalty (the
 * standard's four rules), scored as python-qrcode scores it (the server's library, which prints
 * the activity's own code), with the format and version areas left light: given the same text
 * both draw the same symbol, which the unit test checks module by module.
 *
 * `encode(text)` → {version, size, mask, modules}: modules[y][x], true = dark, without the quiet
 * zone (a drawing leaves 4 light modules around it).
 */

/** Level M, versions 1–10: error correction codewords per block, and the blocks' data codewords. */
const BLOCKS = [
  null,
  { ec: 10, data: [16] },
  { ec: 16, data: [28] },
  { ec: 26, data: [44] },
  { ec: 18, data: [32, 32] },
  { ec: 24, data: [43, 43] },
  { ec: 16, data: [27, 27, 27, 27] },
  { ec: 18, data: [31, 31, 31, 31] },
  { ec: 22, data: [38, 38, 39, 39] },
  { ec: 22, data: [36, 36, 36, 37, 37] },
  { ec: 26, data: [43, 43, 43, 43, 44] },
]
/** The centres of the alignment patterns on each axis, versions 1–10. */
const ALIGNMENT = [null, [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50]]
const MAX_VERSION = 10
const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:'
/** Level M in the format information. */
const EC_LEVEL_BITS = 0

/** @typedef {{ version: number, size: number, mask: number, modules: boolean[][] }} QrCode */

// -- the data -----------------------------------------------------------------------------------

/** @param {string} text @returns {number[]} */
function utf8(text) {
  /** @type {number[]} */
  const out = []
  for (const ch of text) {
    const c = /** @type {number} */ (ch.codePointAt(0))
    if (c < 0x80) out.push(c)
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63))
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
  }
  return out
}

/**
 * The text as one segment: its mode, the character count, and the data bits.
 * @param {string} text
 */
function segment(text) {
  /** @type {number[]} */
  const bits = []
  /** @param {number} value @param {number} length */
  const put = (value, length) => { for (let i = length - 1; i >= 0; i -= 1) bits.push((value >>> i) & 1) }
  if (/^[0-9]+$/.test(text)) {
    for (let i = 0; i < text.length; i += 3) {
      const group = text.slice(i, i + 3)
      put(Number(group), group.length * 3 + 1)
    }
    return { mode: 1, count: text.length, bits, countBits: [10, 12] }
  }
  if ([...text].every((ch) => ALPHANUMERIC.includes(ch))) {
    for (let i = 0; i + 1 < text.length; i += 2) put(ALPHANUMERIC.indexOf(text[i]) * 45 + ALPHANUMERIC.indexOf(text[i + 1]), 11)
    if (text.length % 2) put(ALPHANUMERIC.indexOf(text[text.length - 1]), 6)
    return { mode: 2, count: text.length, bits, countBits: [9, 11] }
  }
  const bytes = utf8(text)
  for (const b of bytes) put(b, 8)
  return { mode: 4, count: bytes.length, bits, countBits: [8, 16] }
}

/** @param {number} version */
const dataCodewords = (version) => /** @type {{ data: number[] }} */ (BLOCKS[version]).data.reduce((a, b) => a + b, 0)

/**
 * The codewords of the text in the smallest version that holds it: data, padded, then split in
 * blocks with their Reed-Solomon codewords, interleaved.
 * @param {string} text
 */
function codewords(text) {
  const seg = segment(text)
  let version = 1
  for (; version <= MAX_VERSION; version += 1) {
    const countBits = seg.countBits[version < 10 ? 0 : 1]
    if (seg.count < 2 ** countBits && 4 + countBits + seg.bits.length <= dataCodewords(version) * 8) break
  }
  if (version > MAX_VERSION) throw new RangeError('text too long for a QR code of version 10')
  const capacity = dataCodewords(version) * 8
  /** @type {number[]} */
  const bits = []
  /** @param {number} value @param {number} length */
  const put = (value, length) => { for (let i = length - 1; i >= 0; i -= 1) bits.push((value >>> i) & 1) }
  put(seg.mode, 4)
  put(seg.count, seg.countBits[version < 10 ? 0 : 1])
  bits.push(...seg.bits)
  put(0, Math.min(4, capacity - bits.length)) // the terminator
  put(0, (8 - (bits.length % 8)) % 8)
  /** @type {number[]} */
  const data = []
  for (let i = 0; i < bits.length; i += 8) data.push(bits.slice(i, i + 8).reduce((byte, bit) => (byte << 1) | bit, 0))
  for (let pad = 0xec; data.length < capacity / 8; pad ^= 0xec ^ 0x11) data.push(pad)

  const { ec, data: sizes } = /** @type {{ ec: number, data: number[] }} */ (BLOCKS[version])
  const divisor = generator(ec)
  /** @type {number[][]} */
  const blocks = []
  let at = 0
  for (const size of sizes) {
    blocks.push(data.slice(at, at + size))
    at += size
  }
  const ecBlocks = blocks.map((block) => remainder(block, divisor))
  /** @type {number[]} */
  const out = []
  for (let i = 0; i < Math.max(...sizes); i += 1) for (const block of blocks) if (i < block.length) out.push(block[i])
  for (let i = 0; i < ec; i += 1) for (const block of ecBlocks) out.push(block[i])
  return { version, codewords: out }
}

// -- Reed-Solomon over GF(256), x^8 + x^4 + x^3 + x^2 + 1 ---------------------------------------

/** @param {number} x @param {number} y */
function multiply(x, y) {
  let z = 0
  for (let i = 7; i >= 0; i -= 1) {
    z = (z << 1) ^ ((z >>> 7) * 0x11d)
    z ^= ((y >>> i) & 1) * x
  }
  return z
}

/** The generator polynomial of `degree` (its coefficients below the leading 1, highest first). @param {number} degree */
function generator(degree) {
  const result = Array(degree).fill(0)
  result[degree - 1] = 1
  let root = 1
  for (let i = 0; i < degree; i += 1) {
    for (let j = 0; j < degree; j += 1) {
      result[j] = multiply(result[j], root)
      if (j + 1 < degree) result[j] ^= result[j + 1]
    }
    root = multiply(root, 0x02)
  }
  return result
}

/** @param {number[]} data @param {number[]} divisor */
function remainder(data, divisor) {
  const result = divisor.map(() => 0)
  for (const b of data) {
    const factor = b ^ /** @type {number} */ (result.shift())
    result.push(0)
    divisor.forEach((coef, i) => { result[i] ^= multiply(coef, factor) })
  }
  return result
}

// -- the symbol ---------------------------------------------------------------------------------

/** @type {((x: number, y: number) => boolean)[]} */
const MASKS = [
  (x, y) => (x + y) % 2 === 0,
  (x, y) => y % 2 === 0,
  (x, y) => x % 3 === 0,
  (x, y) => (x + y) % 3 === 0,
  (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
  (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
  (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
  (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
]

/**
 * The function patterns (finders, timing, alignment, the dark module) and the reserved format
 * and version areas of a version: the modules and which of them are not data.
 * @param {number} version
 */
function base(version) {
  const size = version * 4 + 17
  const modules = Array.from({ length: size }, () => Array(size).fill(false))
  const fixed = Array.from({ length: size }, () => Array(size).fill(false))
  /** @param {number} x @param {number} y @param {boolean} dark */
  const set = (x, y, dark) => {
    modules[y][x] = dark
    fixed[y][x] = true
  }
  for (let i = 0; i < size; i += 1) {
    set(6, i, i % 2 === 0)
    set(i, 6, i % 2 === 0)
  }
  for (const [cx, cy] of [[3, 3], [size - 4, 3], [3, size - 4]]) {
    for (let dy = -4; dy <= 4; dy += 1) {
      for (let dx = -4; dx <= 4; dx += 1) {
        const x = cx + dx
        const y = cy + dy
        const ring = Math.max(Math.abs(dx), Math.abs(dy))
        if (x >= 0 && x < size && y >= 0 && y < size) set(x, y, ring !== 2 && ring !== 4)
      }
    }
  }
  const centres = /** @type {number[]} */ (ALIGNMENT[version])
  const last = centres.length - 1
  centres.forEach((cx, i) => centres.forEach((cy, j) => {
    if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) return
    for (let dy = -2; dy <= 2; dy += 1) {
      for (let dx = -2; dx <= 2; dx += 1) set(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1)
    }
  }))
  drawFormat(set, size, null)
  drawVersion(set, size, version, true)
  return { size, modules, fixed }
}

/**
 * The format information (level M and the mask) in its two copies, and the dark module; `mask`
 * null draws them all light (reserved: the penalty is scored so, as python-qrcode does).
 * @param {(x: number, y: number, dark: boolean) => void} set
 * @param {number} size
 * @param {number | null} mask
 */
function drawFormat(set, size, mask) {
  let bits = 0
  if (mask !== null) {
    const data = (EC_LEVEL_BITS << 3) | mask
    let rem = data
    for (let i = 0; i < 10; i += 1) rem = (rem << 1) ^ ((rem >>> 9) * 0x537)
    bits = ((data << 10) | rem) ^ 0x5412
  }
  /** @param {number} i */
  const bit = (i) => ((bits >>> i) & 1) === 1
  for (let i = 0; i <= 5; i += 1) set(8, i, bit(i))
  set(8, 7, bit(6))
  set(8, 8, bit(7))
  set(7, 8, bit(8))
  for (let i = 9; i < 15; i += 1) set(14 - i, 8, bit(i))
  for (let i = 0; i < 8; i += 1) set(size - 1 - i, 8, bit(i))
  for (let i = 8; i < 15; i += 1) set(8, size - 15 + i, bit(i))
  set(8, size - 8, mask !== null)
}

/**
 * The version information of versions 7 and up, in its two copies (`blank`: light, reserved).
 * @param {(x: number, y: number, dark: boolean) => void} set
 * @param {number} size
 * @param {number} version
 * @param {boolean} blank
 */
function drawVersion(set, size, version, blank) {
  if (version < 7) return
  let rem = version
  for (let i = 0; i < 12; i += 1) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25)
  const bits = (version << 12) | rem
  for (let i = 0; i < 18; i += 1) {
    const dark = !blank && ((bits >>> i) & 1) === 1
    const a = size - 11 + (i % 3)
    const b = Math.floor(i / 3)
    set(a, b, dark)
    set(b, a, dark)
  }
}

/**
 * The codewords placed in the zigzag from the bottom right, two columns at a time.
 * @param {boolean[][]} modules
 * @param {boolean[][]} fixed
 * @param {number[]} data
 */
function place(modules, fixed, data) {
  const size = modules.length
  let i = 0
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5
    const upward = ((right + 1) & 2) === 0
    for (let vert = 0; vert < size; vert += 1) {
      const y = upward ? size - 1 - vert : vert
      for (let j = 0; j < 2; j += 1) {
        const x = right - j
        if (fixed[y][x]) continue
        modules[y][x] = i < data.length * 8 && ((data[i >>> 3] >>> (7 - (i & 7))) & 1) === 1
        i += 1
      }
    }
  }
}

/**
 * The penalty of a masked symbol (rules 1–4 of the standard).
 * @param {boolean[][]} m
 */
function penalty(m) {
  const n = m.length
  let score = 0
  /** @param {(i: number, j: number) => boolean} at */
  const lines = (at) => {
    for (let i = 0; i < n; i += 1) {
      let run = 1
      for (let j = 1; j <= n; j += 1) {
        if (j < n && at(i, j) === at(i, j - 1)) {
          run += 1
        } else {
          if (run >= 5) score += run - 2
          run = 1
        }
      }
      for (let j = 0; j + 10 < n; j += 1) {
        const p = (/** @type {number} */ k) => at(i, j + k)
        if (!p(1) && p(4) && !p(5) && p(6) && !p(9) && ((p(0) && p(2) && p(3) && !p(7) && !p(8) && !p(10))
          || (!p(0) && !p(2) && !p(3) && p(7) && p(8) && p(10)))) score += 40
      }
    }
  }
  lines((i, j) => m[i][j])
  lines((i, j) => m[j][i])
  for (let y = 0; y + 1 < n; y += 1) {
    for (let x = 0; x + 1 < n; x += 1) {
      const c = m[y][x]
      if (m[y][x + 1] === c && m[y + 1][x] === c && m[y + 1][x + 1] === c) score += 3
    }
  }
  const dark = m.reduce((sum, row) => sum + row.filter(Boolean).length, 0)
  score += Math.floor(Math.abs((dark / (n * n)) * 100 - 50) / 5) * 10
  return score
}

/**
 * The QR code of a text.
 * @param {string} text
 * @param {{ mask?: number }} [options] a mask 0–7 (default: the one of least penalty)
 * @returns {QrCode}
 */
function encode(text, options = {}) {
  const { version, codewords: data } = codewords(String(text))
  /** @param {number} mask */
  const masked = (mask) => {
    const { size, modules, fixed } = base(version)
    place(modules, fixed, data)
    for (let y = 0; y < size; y += 1) {
      for (let x = 0; x < size; x += 1) if (!fixed[y][x] && MASKS[mask](x, y)) modules[y][x] = !modules[y][x]
    }
    return { size, modules, fixed }
  }
  let mask = options.mask === undefined ? -1 : options.mask
  if (mask < 0) {
    let best = Infinity
    for (let candidate = 0; candidate < 8; candidate += 1) {
      const score = penalty(masked(candidate).modules)
      if (score < best) {
        best = score
        mask = candidate
      }
    }
  }
  const { size, modules } = masked(mask)
  /** @param {number} x @param {number} y @param {boolean} dark */
  const set = (x, y, dark) => { modules[y][x] = dark }
  drawFormat(set, size, mask)
  drawVersion(set, size, version, false)
  return { version, size, mask, modules }
}

module.exports = { encode }
