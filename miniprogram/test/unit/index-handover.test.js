/** 首页: a change of steward offered to me shows under the card, with 同意 and 拒绝. */
const { load, flush, text, tap, apiError } = require('../helpers')

const ESTATE = { id: 12, name: '翠竹苑', city: '深圳市', district: '南山区' }
const HANDOVER = { id: 41, kind: 'reassign', status: 'pending', due_at: '2026-12-06T10:00:00+08:00',
  created_at: '2026-12-05T10:00:00+08:00', to_engineer: { id: 4, name: '李师傅', status: 'active', photo_url: null } }
const STEWARD = (handover, status = 'active') => ({ binding_id: 7,
  engineer: { id: 3, name: '王建国', phone: '13800138000', status, photo_url: null },
  estate: ESTATE, since: '2026-12-01T10:00:00+08:00', handover })

function answer(stewards) {
  mp.route('GET', '/api/v1/me/stewards', 200, { items: stewards })
  mp.route('GET', '/api/v1/me/estates', 200, { items: [{ estate: ESTATE, source: 'binding', joined_at: '2026-12-01T02:00:00+00:00' }] })
  mp.route('GET', '/api/v1/me', 200, { id: 5, roles: ['resident'] })
  mp.route('GET', '/api/v1/me/notifications', 200, { items: [], next_cursor: null, unread_count: 0 })
}

async function open() {
  const page = load('pages/index/index')
  page.instance.onShow()
  await flush()
  return page
}

beforeEach(() => {
  wx.setStorageSync('linli.token', 'tok')
})

test('the offered steward shows with its deadline; 拒绝 asks, sends the reason and reloads without it', async () => {
  answer([STEWARD(HANDOVER)])
  let sent = null
  mp.route('POST', '/api/v1/me/handovers/41/refuse', (req) => {
    sent = req.data
    answer([STEWARD(null)])
    return [200, { ...HANDOVER, status: 'refused' }]
  })
  const page = await open()
  expect(text(page, '.handover-text')).toBe('您的管家将变更为 李师傅')
  expect(text(page, '.handover-due')).toContain('6日 10:00 前未拒绝将自动生效')
  await tap(page, '.handover-refuse')
  const modal = mp.called('showModal')[0]
  expect(modal.title).toBe('拒绝更换管家')
  expect(modal.editable).toBe(true)
  expect(modal.placeholderText).toContain('仍由王建国为您服务')
  await flush()
  expect(JSON.parse(JSON.stringify(sent))).toEqual({ reason: null })
  expect(mp.called('showToast').pop().title).toBe('已拒绝更换')
  expect(page.querySelector('.handover')).toBeUndefined()
  expect(text(page, '.steward-card >>> .name')).toContain('王建国')
})

test('cancelling the refusal sends nothing', async () => {
  answer([STEWARD(HANDOVER)])
  const page = await open()
  mp.modalConfirm = false
  await tap(page, '.handover-refuse')
  await flush()
  expect(mp.requests.filter((r) => r.method === 'POST')).toEqual([])
  expect(page.querySelector('.handover')).toBeTruthy()
})

test('when my engineer left, the card says so and refusing warns of no steward', async () => {
  answer([STEWARD({ ...HANDOVER, kind: 'engineer_left' }, 'left')])
  mp.route('POST', '/api/v1/me/handovers/41/refuse', 200, { ...HANDOVER, status: 'refused' })
  const page = await open()
  expect(text(page, '.handover-text')).toBe('王建国 已离职，您的管家将变更为 李师傅')
  await tap(page, '.handover-refuse')
  expect(mp.called('showModal')[0].placeholderText).toContain('您将暂无管家')
})

test('同意 takes the new steward at once; a refused call is told', async () => {
  answer([STEWARD(HANDOVER)])
  mp.route('POST', '/api/v1/me/handovers/41/accept', 409, apiError('handover_decided', '该管家变更已处理'))
  const page = await open()
  await tap(page, '.handover-accept')
  await flush()
  expect(mp.requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual(['/api/v1/me/handovers/41/accept'])
  expect(mp.called('showToast').pop().title).toBe('该管家变更已处理')
})
