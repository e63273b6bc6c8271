const { load, flush, text, tap, apiError } = require('../helpers')
const A = require('./activation-fixtures')

const ME = { id: 5, display_name: '陈小明', avatar_url: null, phone: '13700002222', phone_confirmed: true, roles: ['resident'],
  username: null, created_at: '2026-11-01T02:00:00+00:00' }

beforeEach(() => {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 'tok' })
  mp.route('GET', '/api/v1/me', 200, ME)
  getApp().globalData.me = null
})

/** GET /api/v1/partner-listings/1 answers by the call count. */
function routeListing(answer) {
  let calls = 0
  mp.route('GET', '/api/v1/partner-listings/1', () => {
    calls += 1
    const body = typeof answer === 'function' ? answer(calls) : answer
    return Array.isArray(body) ? body : [200, body]
  })
}

async function open() {
  const page = load('pages/listing/index')
  page.instance.onLoad({ id: '1' })
  await flush(10)
  return page
}

const leads = () => mp.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/partner-listings/1/leads')

test('a partner\'s service: photos, price, partner and description; 报名 with my phone prefilled and a note', async () => {
  routeListing((n) => A.residentListing(1, { photos: ['/api/v1/uploads/s.jpg'],
    my_lead: n === 1 ? null : { id: 3, status: 'new', created_at: '2026-12-05T06:48:39+00:00' } }))
  mp.route('POST', '/api/v1/partner-listings/1/leads', 201, { id: 3, listing_id: 1, status: 'new', contact_name: '',
    contact_phone: '13900001111', note: '周末上门', created_at: '2026-12-05T06:48:39+00:00' })
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.title')).toBe('上门深度保洁')
  expect(text(page, '.price')).toBe('¥199起')
  expect(text(page, '.partner')).toBe('洁净家政 · 家政')
  expect(text(page, '.body')).toBe('三小时全屋保洁，自带工具与清洁剂。')
  expect(page.data.listing.photos).toEqual(['http://127.0.0.1:5000/api/v1/uploads/s.jpg'])
  expect(page.data.phone).toBe('13700002222')
  expect(mp.called('setNavigationBarTitle').pop().title).toBe('伙伴服务')
  page.querySelector('.phone').dispatchEvent('input', { detail: { value: '139 0000 1111' } })
  page.querySelector('.note').dispatchEvent('input', { detail: { value: ' 周末上门 ' } })
  await tap(page, '.signup')
  await flush()
  expect(leads().map((r) => r.data)).toEqual([{ contact_phone: '13900001111', note: '周末上门' }])
  expect(leads()[0].header['Idempotency-Key']).toBeTruthy()
  expect(mp.called('showToast').pop().title).toBe('报名成功')
  expect(text(page, '.lead')).toBe('已报名，商家会尽快联系您')
  expect(page.querySelector('.signup')).toBeUndefined()
})

test('the phone is checked first; the server\'s field errors show under their fields; signed up before reloads', async () => {
  routeListing((n) => A.residentListing(1, { my_lead: n === 1 ? null : { id: 3, status: 'contacted', created_at: '2026-12-05T06:48:39+00:00' } }))
  let answer = [422, apiError('validation_error', '提交的数据有误', { fields: { note: ['备注不能超过 500 字'] } })]
  mp.route('POST', '/api/v1/partner-listings/1/leads', () => answer)
  const page = await open()
  page.querySelector('.phone').dispatchEvent('input', { detail: { value: '1390000' } })
  await tap(page, '.signup')
  expect(text(page, '.phone-error')).toBe('请填写 11 位手机号，商家会通过它联系您')
  expect(leads()).toHaveLength(0)
  page.querySelector('.phone').dispatchEvent('input', { detail: { value: '13900001111' } })
  await tap(page, '.signup')
  expect(text(page, '.note-error')).toBe('备注不能超过 500 字')
  answer = [409, apiError('already_signed_up', '您已报名过该服务，商家会尽快联系您')]
  await tap(page, '.signup')
  await flush()
  expect(mp.called('showToast').pop().title).toBe('您已报名过该服务，商家会尽快联系您')
  expect(text(page, '.lead')).toBe('商家已联系您')
})

test('a link: 打开链接 copies it and says to open it in a browser (a mini-program cannot)', async () => {
  routeListing(A.residentListing(1, { signup_mode: 'link', link_url: 'https://example.com/trade-in', title: '家电以旧换新', price_fen: null }))
  const page = await open()
  expect(text(page, '.price')).toBe('价格面议')
  expect(page.querySelector('.signup-card')).toBeUndefined()
  expect(text(page, '.link-hint')).toBe('小程序内无法直接打开外部网页：点击后复制链接，请在浏览器中打开。')
  await tap(page, '.open-link')
  await flush()
  expect(mp.called('setClipboardData')[0].data).toBe('https://example.com/trade-in')
  expect(mp.called('showModal').pop()).toMatchObject({ title: '链接已复制', content: '小程序内无法直接打开外部网页，请粘贴到手机浏览器中打开。' })
})

test('an announcement has nothing to do; one not offered to me is said so', async () => {
  routeListing((n) => (n === 1 ? A.residentListing(1, { kind: 'announcement', title: '周末社区团购', price_fen: null, price_note: '',
    signup_mode: 'none' }) : [404, apiError('listing_not_found', '内容不存在')]))
  const page = await open()
  expect(page.querySelector('.price')).toBeUndefined()
  expect(text(page, '.partner-badge')).toBe('伙伴公告')
  expect(page.querySelector('.signup-card')).toBeUndefined()
  expect(page.querySelector('.link-card')).toBeUndefined()
  const gone = await open()
  expect(gone.data.state).toBe('error')
  expect(text(gone, '.load-error >>> .message')).toBe('该服务已下线或不在您的小区提供')
})
