const { load, flush } = require('../helpers')
const { encode } = require('../../src/utils/qrcode')

/**
 * Symbols drawn by python-qrcode 8.2 (the server's library, activation/activities/views.py) for the
 * same texts at level M — `QRCode(error_correction=ERROR_CORRECT_M, border=0)`, `add_data(text,
 * optimize=0)`, `make(fit=True)`, `get_matrix()` — each row as hex (dark = 1, padded to 4 bits).
 */
const REFERENCE = [
  { text: 'UMCDAJ57', version: 1, mask: 4, rows: ['fe9bf8', '826a08', 'ba1ae8', 'baa2e8', 'bafae8', '82ea08', 'feabf8', '00c000', '8bafc8',
    '3c8e78', '6ecc58', 'f05910', '7713e8', '00b828', 'fed3f0', '826780', 'bace48', 'ba4e78', 'ba4c80', '827808', 'fe9338'] },
  { text: '邻里活动签到 https://linli.example/a?x=1', version: 4, mask: 4, rows: ['fed3c5bf8', '8248db208', 'ba058cae8', 'bafa6bae8',
    'baba3fae8', '82b092a08', 'feaaaabf8', '0099c1000', '8bf855fc8', '5de7830b0', 'fa89c6770', '1873650e8', '07df292c0', '50a095578',
    '9aced1d88', 'f8225a990', 'db9d4fcd0', '65b7c5990', 'a243205a0', '690002430', '923193790', '919a39d10', '173f0dad8', '24e7e1608',
    'ce4278f80', '009b08890', 'fe8347a90', '8208658e0', 'baa739fa0', 'ba70d7830', 'ba1696300', '82045be00', 'feb565908'] },
  { text: `${'社区活动'.repeat(10)}${'x'.repeat(20)}`, version: 8, mask: 1, rows: ['fe87adebbcbf8', '826d3746efa08', 'bad66aa321ae8',
    'ba61544cc92e8', 'ba42bbf4542e8', '829ff23112208', 'feaaaaaaaabf8', '0030623abb000', 'a31487f756128', '79dd2b26e7468', '4ff07fe545960',
    '20ba5eacccaa8', '836add4667400', 'c403feebaafc8', 'da3c154100570', 'f1e81ec3bb5b8', '52e9fe66ef708', 'ac982bac44ad8', '2f7f0901110f0',
    '990ed7eaeada8', '8b46854465308', '7d9f6aea2ba40', '1fdcfbf514fb0', 'd89a9224458b0', '3a83d2b151ae8', '68a9fa33338b8', 'dfb51bec8cfd0',
    '2821691fbf9e0', '2e6c899515d48', '30c98786660a8', '777aab4cccb00', 'b00c81e3bbee0', '862257beeea40', '6c77faa4442e8', '82e316d110dc0',
    'f5ba3b7aba768', 'b605545756550', '70d60ee6e6fe8', '461c078545160', '7181d52ccd2a8', 'e32857e666f80', '008c8a2baa8c8', 'fefdd6a101ad0',
    '825d8e2dcd8b8', 'ba1afbf333f88', 'ba659a9abba40', 'ba9bb22eeed30', '824cd89bba320', 'fef8452eef4e8'] },
]

/** A row of modules as the reference's hex. */
function hex(row) {
  const bits = row.map((dark) => (dark ? '1' : '0')).join('').padEnd(Math.ceil(row.length / 4) * 4, '0')
  let out = ''
  for (let i = 0; i < bits.length; i += 4) out += parseInt(bits.slice(i, i + 4), 2).toString(16)
  return out
}

test.each(REFERENCE)('$text draws the symbol python-qrcode draws (version $version, mask $mask)', ({ text, version, mask, rows }) => {
  const code = encode(text)
  expect([code.version, code.mask, code.size]).toEqual([version, mask, version * 4 + 17])
  expect(code.modules.map(hex)).toEqual(rows)
})

test('an attendee code is a 21×21 symbol in alphanumeric mode with finders in three corners', () => {
  const code = encode('K7M3QX2P')
  expect(code.size).toBe(21)
  const finder = ['1111111', '1000001', '1011101', '1011101', '1011101', '1000001', '1111111']
  const at = (x0, y0) => finder.map((_, y) => code.modules[y0 + y].slice(x0, x0 + 7).map((d) => (d ? '1' : '0')).join(''))
  expect(at(0, 0)).toEqual(finder)
  expect(at(14, 0)).toEqual(finder)
  expect(at(0, 14)).toEqual(finder)
  // the dark module beside the bottom-left finder
  expect(code.modules[13][8]).toBe(true)
})

test('another mask can be asked for; a text beyond version 10 is refused', () => {
  expect(encode('UMCDAJ57', { mask: 0 }).mask).toBe(0)
  expect(encode('UMCDAJ57', { mask: 0 }).modules).not.toEqual(encode('UMCDAJ57').modules)
  expect(() => encode('x'.repeat(214))).toThrow(RangeError)
  expect(encode('x'.repeat(213)).version).toBe(10)
})

test('the qr-code component draws the modules as runs inside a 4-module quiet zone', async () => {
  const comp = load('components/qr-code/index', { text: 'UMCDAJ57', size: 360 })
  await flush()
  const cell = Math.floor(360 / 29)
  expect(comp.data.cell).toBe(cell)
  expect(comp.data.width).toBe(21 * cell)
  expect(comp.data.quiet).toBe(4 * cell)
  const rows = comp.querySelectorAll('.qr-row')
  expect(rows).toHaveLength(21)
  // every row adds up to the symbol's width, and its runs are the modules in order
  const code = encode('UMCDAJ57')
  comp.data.rows.forEach((runs, y) => {
    expect(runs.reduce((sum, r) => sum + r.w, 0)).toBe(21 * cell)
    expect(runs.flatMap((r) => Array(r.w / cell).fill(r.d))).toEqual(code.modules[y])
  })
})

test('no text draws nothing', async () => {
  const comp = load('components/qr-code/index', { text: '' })
  await flush()
  expect(comp.querySelector('.qr')).toBeUndefined()
})
