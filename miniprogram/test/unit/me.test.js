const { load, flush, text, tap, apiError } = require('../helpers')

const ME = { id: 5, display_name: '', avatar_url: null, phone: null, phone_confirmed: false, username: null,
  roles: ['resident'], created_at: '2026-12-01T10:00:00+08:00' }
const POINTS = { balance: 120, held: 0, pending: 30, expiring: { points: 0, before: null } }
const INBOX = { items: [{ id: 9, kind: 'order', title: '服务单已派单', body: '…', page: 'pages/order/index?id=3', wechat: false,
  read: false, created_at: '2026-12-04T09:00:00+08:00' }], next_cursor: 'abc', unread_count: 3 }

function routes({ me = ME, points = [200, POINTS], inbox = [200, INBOX] } = {}) {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 'tok' })
  mp.route('GET', '/api/v1/me', 200, me)
  mp.route('GET', '/api/v1/me/points', ...points)
  mp.route('GET', '/api/v1/me/notifications', ...inbox)
}

async function open() {
  const page = load('pages/me/index')
  page.instance.onLoad({})
  await flush()
  return page
}

test('shows the profile, the masked phone, the balance and the unread count, and the resident entries', async () => {
  routes({ me: { ...ME, display_name: '张阿姨', avatar_url: '/api/v1/uploads/a.jpg', phone: '13800138000', phone_confirmed: true } })
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(page.data.nickname).toBe('张阿姨')
  expect(page.data.avatar).toBe('http://127.0.0.1:5000/api/v1/uploads/a.jpg')
  expect(text(page, '.phone')).toBe('138****8000')
  expect(text(page, '.phone-button')).toBe('更换')
  expect(text(page, '.entry-points .balance')).toBe('120 分')
  expect(text(page, '.entry-notifications .unread')).toBe('3')
  expect(page.querySelectorAll('.entry-title').map((e) => e.dom.textContent.trim())).toEqual(
    ['我的订单', '积分', '我的优惠券', '我的活动', '服务代言人', '消息通知', '通知设置', '我的家电', '我的地址', '我是工程师'])
  expect(page.querySelector('.entry-work')).toBeUndefined()
  // an engineer who holds an invite code activates there
  await tap(page, '.entry-claim')
  expect(mp.called('navigateTo').pop().url).toBe('/pages/work/index')
  const inboxCall = mp.requests.find((r) => r.path === '/api/v1/me/notifications')
  expect(inboxCall.query.get('limit')).toBe('1')
  expect(getApp().globalData.me.display_name).toBe('张阿姨')
})

test('an engineer also gets the 工作台 entry, and each entry opens its page', async () => {
  routes({ me: { ...ME, roles: ['engineer', 'resident'] } })
  const page = await open()
  expect(page.querySelector('.entry-claim')).toBeUndefined()
  await tap(page, '.entry-work')
  await tap(page, '.entry-orders')
  await tap(page, '.entry-addresses')
  await tap(page, '.entry-subscriptions')
  await tap(page, '.entry-products')
  await tap(page, '.entry-coupons')
  await tap(page, '.entry-activities')
  expect(mp.called('navigateTo').map((a) => a.url)).toEqual(
    ['/pages/work/index', '/pages/orders/index', '/pages/addresses/index', '/pages/subscriptions/index', '/pages/products/index',
      '/pages/coupons/index', '/pages/activities/index'])
})

test('a new resident sees no phone yet and no badge; failed counts are simply left out', async () => {
  routes({ points: [500, apiError('internal_error', '服务器内部错误，请稍后重试')], inbox: [200, { items: [], next_cursor: null, unread_count: 0 }] })
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.phone')).toBe('未绑定，工程师上门前需要联系您')
  expect(text(page, '.phone-button')).toBe('获取手机号')
  expect(page.querySelector('.balance')).toBeUndefined()
  expect(page.querySelector('.unread')).toBeUndefined()
  expect(page.data.avatar).toBe('')
  expect(text(page, '.avatar-empty')).toBe('头像')
})

test('the profile failing to load shows an error with a retry that loads it', async () => {
  let fail = true
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 'tok' })
  mp.route('GET', '/api/v1/me', () => (fail ? ['network'] : [200, ME]))
  mp.route('GET', '/api/v1/me/points', 200, POINTS)
  mp.route('GET', '/api/v1/me/notifications', 200, INBOX)
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('没有加载到您的信息')
  fail = false
  await tap(page, '.load-error >>> .action')
  expect(page.data.state).toBe('ready')
})

test('chooseAvatar: the temporary file is uploaded and becomes my avatar', async () => {
  routes()
  mp.route('POST', '/api/v1/uploads', 201, { id: 'av1.jpg', url: '/api/v1/uploads/av1.jpg' })
  mp.route('PUT', '/api/v1/me', (req) => [200, { ...ME, avatar_url: `/api/v1/uploads/${req.data.avatar}` }])
  const page = await open()
  page.querySelector('.avatar-button').dispatchEvent('chooseavatar', { detail: { avatarUrl: 'wxfile://tmp_avatar.jpg' } })
  await flush()
  expect(mp.requests.find((r) => r.path === '/api/v1/uploads').data).toEqual({ file: 'wxfile://tmp_avatar.jpg' })
  expect(mp.requests.find((r) => r.method === 'PUT').data).toEqual({ avatar: 'av1.jpg' })
  expect(page.data.avatar).toBe('http://127.0.0.1:5000/api/v1/uploads/av1.jpg')
})

test('a refused avatar upload keeps the old avatar and says why', async () => {
  routes({ me: { ...ME, avatar_url: '/api/v1/uploads/old.jpg' } })
  mp.route('POST', '/api/v1/uploads', 415, apiError('unsupported_image_type', '只接受 JPEG、PNG 或 WebP 图片'))
  const page = await open()
  page.instance.onChooseAvatar({ detail: { avatarUrl: 'wxfile://x.gif' } })
  await flush()
  expect(page.data.avatar).toBe('http://127.0.0.1:5000/api/v1/uploads/old.jpg')
  expect(mp.called('showToast').pop().title).toBe('只接受 JPEG、PNG 或 WebP 图片')
  expect(mp.requests.some((r) => r.method === 'PUT')).toBe(false)
})

test('the nickname is saved once on blur and confirm, trimmed; an unchanged or empty one is not sent', async () => {
  routes()
  mp.route('PUT', '/api/v1/me', (req) => [200, { ...ME, display_name: req.data.display_name }])
  const page = await open()
  const input = page.querySelector('.nickname')
  input.dispatchEvent('blur', { detail: { value: ' 小邻 ' } })
  input.dispatchEvent('confirm', { detail: { value: ' 小邻 ' } })
  await flush()
  const puts = mp.requests.filter((r) => r.method === 'PUT')
  expect(puts.map((r) => r.data)).toEqual([{ display_name: '小邻' }])
  expect(page.data.me.display_name).toBe('小邻')
  page.instance.onNickname({ detail: { value: '小邻' } })
  page.instance.onNickname({ detail: { value: '   ' } })
  await flush()
  expect(mp.requests.filter((r) => r.method === 'PUT')).toHaveLength(1)
  expect(page.data.nickname).toBe('小邻')
})

test('a risky nickname is refused with the server message shown under it, and the old name kept', async () => {
  routes({ me: { ...ME, display_name: '老王' } })
  mp.route('PUT', '/api/v1/me', 409, apiError('content_risky', '昵称包含违规信息，请换一个'))
  const page = await open()
  page.instance.onNickname({ detail: { value: '赌博大王' } })
  await flush()
  expect(text(page, '.nickname-error')).toBe('昵称包含违规信息，请换一个')
  expect(page.data.nickname).toBe('老王')
  expect(mp.called('showToast')).toEqual([])
})

test('a too-long nickname shows the field error from the 422', async () => {
  routes()
  mp.route('PUT', '/api/v1/me', 422, apiError('validation_error', '昵称须为 1–20 个字符', { fields: { display_name: ['昵称须为 1–20 个字符'] } }))
  const page = await open()
  page.instance.onNickname({ detail: { value: '名'.repeat(21) } })
  await flush()
  expect(text(page, '.nickname-error')).toBe('昵称须为 1–20 个字符')
})

test('getPhoneNumber: the code is confirmed by the server and the masked phone shows', async () => {
  routes()
  mp.route('POST', '/api/v1/me/phone', (req) => [200, { ...ME, phone: '13912345678', phone_confirmed: true, got: req.data }])
  const page = await open()
  page.querySelector('.phone-button').dispatchEvent('getphonenumber', { detail: { code: 'phone-code-1', errMsg: 'getPhoneNumber:ok' } })
  await flush()
  expect(mp.requests.find((r) => r.path === '/api/v1/me/phone').data).toEqual({ code: 'phone-code-1' })
  expect(text(page, '.phone')).toBe('139****5678')
  expect(text(page, '.phone-button')).toBe('更换')
  expect(mp.called('showToast').pop().title).toBe('手机号已绑定')
})

test('a user who refuses the phone dialog gets nothing: no call, no error', async () => {
  routes()
  const page = await open()
  page.instance.onPhone({ detail: { errMsg: 'getPhoneNumber:fail user deny' } })
  await flush()
  expect(mp.requests.some((r) => r.path === '/api/v1/me/phone')).toBe(false)
  expect(mp.called('showToast')).toEqual([])
})

test('an expired phone code is told in a toast', async () => {
  routes()
  mp.route('POST', '/api/v1/me/phone', 400, apiError('phone_code_invalid', '手机号授权已失效，请重新点击按钮获取手机号'))
  const page = await open()
  page.instance.onPhone({ detail: { code: 'old' } })
  await flush()
  expect(mp.called('showToast').pop().title).toBe('手机号授权已失效，请重新点击按钮获取手机号')
  expect(text(page, '.phone-button')).toBe('获取手机号')
})

test('coming back to the tab refreshes the unread count', async () => {
  let unread = 3
  routes()
  mp.route('GET', '/api/v1/me/notifications', () => [200, { ...INBOX, unread_count: unread }])
  const page = await open()
  expect(text(page, '.unread')).toBe('3')
  unread = 0
  page.instance.onShow()
  await flush()
  expect(page.querySelector('.unread')).toBeUndefined()
})
