// @ts-check
/**
 * A QR code the page draws itself (utils/qrcode.js): rows of dark and light runs as views, with
 * the 4-module quiet zone around them. No canvas and no WeChat call, so it shows offline and in
 * tests. `text` is what it encodes; `size` its width in rpx (the module size is a whole number of
 * rpx, so the drawing may be a little smaller).
 */
const qrcode = require('../../utils/qrcode')

const QUIET = 4

Component({
  properties: {
    text: { type: String, value: '' },
    size: { type: Number, value: 400 },
  },
  data: {
    /** @type {{ w: number, d: boolean }[][]} each row's runs: width in rpx, dark */
    rows: [],
    cell: 0,
    width: 0,
    quiet: 0,
  },
  observers: {
    'text, size'(/** @type {string} */ text, /** @type {number} */ size) {
      if (!text) {
        this.setData({ rows: [], cell: 0, width: 0, quiet: 0 })
        return
      }
      const code = qrcode.encode(text)
      const cell = Math.max(2, Math.floor(size / (code.size + 2 * QUIET)))
      const rows = code.modules.map((row) => {
        /** @type {{ w: number, d: boolean }[]} */
        const runs = []
        for (const dark of row) {
          const last = runs[runs.length - 1]
          if (last && last.d === dark) last.w += cell
          else runs.push({ w: cell, d: dark })
        }
        return runs
      })
      this.setData({ rows, cell, width: cell * code.size, quiet: cell * QUIET })
    },
  },
})
