const { load, flush, text, tap, apiError } = require('../helpers')

const ESTATE = { id: 12, name: '翠竹苑', city: '深圳市', district: '南山区' }
const OTHER_ESTATE = { id: 14, name: '海月花园', city: '深圳市', district: '南山区' }
/** Recorded from GET /api/v1/me/addresses (the default first). */
const address = (id, estate, extra = {}) => ({ id, estate, building: '3', unit: '2', room: `${id}01`, contact_name: '陈小明',
  contact_phone: '13812345678', is_default: false, text: `${estate.name} 3栋 2单元 ${id}01`,
  created_at: '2026-12-01T02:00:00+00:00', updated_at: '2026-12-01T02:00:00+00:00', ...extra })
const BOOK = { items: [
  address(1, OTHER_ESTATE, { is_default: true }),
  address(2, ESTATE, { contact_name: '陈妈妈', contact_phone: '13900001111' }),
  address(3, ESTATE),
] }
const ME = { id: 5, display_name: '陈小明', avatar_url: null, phone: '13700002222', phone_confirmed: true, roles: ['resident'],
  username: null, created_at: '2026-11-01T02:00:00+00:00' }
const ENGINEER = { id: 3, name: '王建国', photo_url: '/api/v1/uploads/wang.jpg', intro: '', status: 'active',
  estates: [{ ...ESTATE, rank: 1, score: 29.1 }], totals: { completed: 3, reviews: 1, avg_rating: 5, likes: 1 },
  liked: false, can_like: false, is_my_steward: true }
const ORDER = { id: 41, source: 'app', estate_id: 12, resident_id: 5, engineer_id: 3, preferred_engineer_id: 3, service_type: 'install',
  service_type_label: '安装', description: '新买的热水器', preferred_slot: null, status: 'assigned', status_label: '已派单',
  requested_at: '2026-12-04T02:00:00+00:00', assigned_at: '2026-12-04T02:00:00+00:00', scheduled_for: null, completed_at: null,
  cancelled_at: null, cancel_reason: null, rating: null, complained: false, address: '翠竹苑 3栋 2单元 201', contact_name: '陈妈妈',
  contact_phone: '13900001111', customer_name: '陈小明', photos: [], engineer: { id: 3, name: '王建国', photo_url: null }, review: null }

const pad = (n) => (n < 10 ? `0${n}` : `${n}`)
function beijingDay(days) {
  const at = new Date(Date.now() + 8 * 3600000 + days * 86400000)
  return `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}`
}

function routeForm({ book = BOOK, me = ME, coupons = () => [] } = {}) {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 't' })
  // my coupons usable for the chosen type (none unless a test gives them)
  mp.route('GET', '/api/v1/me/coupons', (req) => [200, { items: coupons(req.query.get('service_type')), next_cursor: null }])
  mp.route('GET', '/api/v1/me/addresses', 200, book)
  mp.route('GET', '/api/v1/me', 200, me)
  mp.route('GET', '/api/v1/engineers/3', 200, ENGINEER)
}

async function open(options = { estate_id: '12', engineer_id: '3' }) {
  const page = load('pages/request/index')
  page.instance.onLoad(options)
  await flush(10)
  return page
}

const sent = () => mp.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/service-requests')

test('the form shows the named engineer and this estate\'s addresses, the default (else the first) chosen, with its phone', async () => {
  routeForm()
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.engineer >>> .name')).toBe('王建国师傅')
  expect(text(page, '.engineer >>> .note')).toBe('您的管家')
  expect(page.querySelector('.engineer').instance.data.photo).toBe('http://127.0.0.1:5000/api/v1/uploads/wang.jpg')
  expect(page.querySelectorAll('.address-text').map((a) => a.dom.textContent)).toEqual(['翠竹苑 3栋 2单元 201', '翠竹苑 3栋 2单元 301'])
  expect(page.data.addressId).toBe(2)
  expect(page.data.contactPhone).toBe('13900001111')
  expect(page.data.typeLabels).toEqual(['维修', '安装', '保养', '清洗', '检测', '其他'])
  // choosing another address brings its phone, until the phone is typed
  page.querySelectorAll('.address')[1].dispatchEvent('tap')
  await flush()
  expect([page.data.addressId, page.data.contactPhone]).toEqual([3, '13812345678'])
  page.instance.onPhone({ detail: { value: '13600003333' } })
  page.querySelectorAll('.address')[0].dispatchEvent('tap')
  await flush()
  expect([page.data.addressId, page.data.contactPhone]).toEqual([2, '13600003333'])
})

test('without an estate every address is offered and the default is chosen', async () => {
  routeForm()
  const page = await open({})
  expect(page.querySelectorAll('.address')).toHaveLength(3)
  expect(page.data.addressId).toBe(1)
  expect(page.querySelector('.engineer')).toBeUndefined()
  expect(mp.requests.some((r) => r.path.startsWith('/api/v1/engineers'))).toBe(false)
})

test('a complete request is sent once, with an Idempotency-Key, and opens the new order', async () => {
  routeForm()
  mp.route('POST', '/api/v1/service-requests', 201, ORDER)
  const page = await open()
  page.querySelector('.type-picker').dispatchEvent('change', { detail: { value: '1' } })
  page.instance.onDescription({ detail: { value: '  新买的热水器  ' } })
  page.querySelector('.photo-picker').dispatchEvent('change', { detail: { ids: ['a1.jpg', 'b2.jpg'] } })
  const tomorrow = beijingDay(1)
  page.querySelector('.date-picker').dispatchEvent('change', { detail: { value: tomorrow } })
  page.querySelector('.time-picker').dispatchEvent('change', { detail: { value: '09:30' } })
  await flush()
  expect(text(page, '.date-picker')).toBe(tomorrow)
  // a double tap sends one request
  page.querySelector('.submit').dispatchEvent('tap')
  page.querySelector('.submit').dispatchEvent('tap')
  await flush(10)
  expect(sent()).toHaveLength(1)
  expect(sent()[0].data).toEqual({ estate_id: 12, service_type: 'install', description: '新买的热水器', address_id: 2,
    photos: ['a1.jpg', 'b2.jpg'], contact_phone: '13900001111', preferred_slot: `${tomorrow} 09:30`, preferred_engineer_id: 3 })
  expect(sent()[0].header['Idempotency-Key']).toMatch(/^[a-z0-9]+-[a-z0-9]+$/)
  expect(mp.called('redirectTo')).toEqual([expect.objectContaining({ url: '/pages/order/index?id=41&created=1' })])
})

test('a retry after a lost answer sends the same key; the server\'s field errors show under their fields', async () => {
  routeForm()
  mp.route('POST', '/api/v1/service-requests', 'network')
  const page = await open()
  page.instance.onType({ detail: { value: '0' } })
  await tap(page, '.submit')
  expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
  mp.route('POST', '/api/v1/service-requests', 422, apiError('validation_error', '请填写 11 位手机号',
    { fields: { contact_phone: ['请填写 11 位手机号'], address_id: ['该地址不在所选小区，请选择本小区的地址'] } }))
  await tap(page, '.submit')
  expect(sent()).toHaveLength(2)
  expect(sent()[1].header['Idempotency-Key']).toBe(sent()[0].header['Idempotency-Key'])
  expect(text(page, '.phone-error')).toBe('请填写 11 位手机号')
  expect(text(page, '.address-error')).toBe('该地址不在所选小区，请选择本小区的地址')
  expect(mp.called('redirectTo')).toEqual([])
  // typing clears the field's error
  page.instance.onPhone({ detail: { value: '13900001112' } })
  await flush()
  expect(page.querySelector('.phone-error')).toBeUndefined()
})

test('a refusal without fields is told in a toast (not a resident here)', async () => {
  routeForm()
  mp.route('POST', '/api/v1/service-requests', 403, apiError('not_a_resident', '只有该小区的住户可以为这里申请服务'))
  const page = await open()
  page.instance.onType({ detail: { value: '0' } })
  await tap(page, '.submit')
  expect(mp.called('showToast').pop().title).toBe('只有该小区的住户可以为这里申请服务')
  expect(page.data.sending).toBe(false)
})

test('the form\'s own checks: a type, an address, a mobile number, a time in the future', async () => {
  routeForm({ book: { items: [] } })
  const page = await open()
  expect(text(page, '.no-address')).toBe('您在这个小区还没有服务地址，请先新增')
  expect(page.data.contactPhone).toBe('13700002222')  // my own phone, without an address
  page.instance.onPhone({ detail: { value: '1380013' } })
  page.instance.onTime({ detail: { value: '10:00' } })
  await tap(page, '.submit')
  expect(sent()).toHaveLength(0)
  expect(text(page, '.service-type-error')).toBe('请选择服务类型')
  expect(text(page, '.address-error')).toBe('请先新增一个服务地址')
  expect(page.querySelector('.no-address')).toBeUndefined()  // said once, as the error
  expect(text(page, '.phone-error')).toBe('请填写 11 位手机号')
  expect(text(page, '.slot-error')).toBe('请先选择日期')
  page.instance.onDate({ detail: { value: beijingDay(0) } })
  page.instance.onTime({ detail: { value: '00:00' } })
  await tap(page, '.submit')
  expect(text(page, '.slot-error')).toBe('期望时间须晚于现在')
  await tap(page, '.clear-time')
  expect([page.data.date, page.data.time]).toEqual(['', ''])
})

test('"新增地址" opens the address page; back here the new address is chosen', async () => {
  routeForm({ book: { items: [] } })
  const page = await open()
  await tap(page, '.add-address')
  expect(mp.called('navigateTo')[0].url).toBe('/pages/address/index?estate_id=12')
  mp.route('GET', '/api/v1/me/addresses', 200, { items: [address(1, OTHER_ESTATE, { is_default: true }), address(7, ESTATE)] })
  page.instance.onShow()
  await flush(10)
  expect(page.data.addressId).toBe(7)
  expect(page.querySelectorAll('.address')).toHaveLength(1)
  expect(page.querySelector('.address-error')).toBeUndefined()
})

test('a form sent before whose answer was lost, then changed: the first request counts', async () => {
  routeForm()
  mp.route('POST', '/api/v1/service-requests', 409, apiError('idempotency_key_reused', '该 Idempotency-Key 已用于另一个请求'))
  const page = await open()
  page.instance.onType({ detail: { value: '2' } })
  await tap(page, '.submit')
  await flush()
  expect(mp.called('showModal')[0].title).toBe('申请已提交')
  expect(mp.called('redirectTo')).toEqual([expect.objectContaining({ url: '/pages/orders/index' })])
})

test('a failed load offers a retry', async () => {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 't' })
  mp.route('GET', '/api/v1/me/addresses', 500, {})
  mp.route('GET', '/api/v1/me', 200, ME)
  mp.route('GET', '/api/v1/engineers/3', 200, ENGINEER)
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('加载失败，请检查网络')
  mp.route('GET', '/api/v1/me/addresses', 200, BOOK)
  page.querySelector('.load-error').querySelector('.action').dispatchEvent('tap')
  await flush(10)
  expect(page.data.state).toBe('ready')
  expect(page.data.addressId).toBe(2)
})

describe('a coupon with the request', () => {
  const A = require('./activation-fixtures')
  A.fixClock()
  const FOR = {
    repair: [A.coupon(1), A.percentCoupon(2),
      A.coupon(3, { status: 'locked', status_label: '使用中', locked_order_id: 40 }),
      A.coupon(4, { valid_from: '2099-01-01', usable_now: false })],
    install: [A.percentCoupon(2)],
  }

  test('a type offers my coupons usable for it (none chosen); the one chosen goes with the request', async () => {
    routeForm({ coupons: (type) => FOR[type] || [] })
    mp.route('POST', '/api/v1/service-requests', 201, ORDER)
    const page = await open()
    expect(page.querySelector('.coupons')).toBeUndefined()
    page.querySelector('.type-picker').dispatchEvent('change', { detail: { value: '0' } })
    await flush()
    const asked = mp.requests.filter((r) => r.path === '/api/v1/me/coupons').pop().query
    expect([asked.get('status'), asked.get('service_type')]).toEqual(['available', 'repair'])
    // held by another order, or not yet valid: not offered
    expect(page.querySelectorAll('.coupon-name').map((n) => n.dom.textContent)).toEqual(['满100减20清洗立减券', '8.5折保养八五折券'])
    expect(text(page, '.coupon-1 .coupon-terms')).toBe('减 20 元 · 订单满 100 元可用 · 限维修、清洗服务使用 · 2027年1月3日 到期')
    expect(page.data.couponId).toBe(0)
    expect(text(page, '.coupon-none .radio')).toBe('●')
    await tap(page, '.coupon-2')
    expect(text(page, '.coupon-2 .radio')).toBe('●')
    // another type: the chosen coupon stays when it applies there too, else none is chosen
    page.querySelector('.type-picker').dispatchEvent('change', { detail: { value: '1' } })
    await flush()
    expect(page.data.couponId).toBe(2)
    await tap(page, '.submit')
    await flush()
    expect(sent()[0].data.coupon_id).toBe(2)
    expect(sent()[0].data.service_type).toBe('install')
  })

  test('a coupon the server refuses is said under the coupons, unchosen and the list read again', async () => {
    let repair = FOR.repair
    routeForm({ coupons: () => repair })
    mp.route('POST', '/api/v1/service-requests', 409, apiError('coupon_locked', '该优惠券已用于另一张服务单'))
    const page = await open()
    page.querySelector('.type-picker').dispatchEvent('change', { detail: { value: '0' } })
    await flush()
    await tap(page, '.coupon-1')
    repair = [A.percentCoupon(2)]
    await tap(page, '.submit')
    await flush()
    expect(sent()[0].data.coupon_id).toBe(1)
    expect(text(page, '.coupon-error')).toBe('该优惠券已用于另一张服务单')
    expect(mp.called('showToast')).toEqual([])
    expect(page.data.couponId).toBe(0)
    expect(page.querySelectorAll('.coupon-name').map((n) => n.dom.textContent)).toEqual(['8.5折保养八五折券'])
    // choosing again clears the message; a 422 on coupon_id shows there too
    await tap(page, '.coupon-2')
    expect(page.querySelector('.coupon-error')).toBeUndefined()
    mp.route('POST', '/api/v1/service-requests', 422, apiError('validation_error', '提交的数据有误',
      { fields: { coupon_id: ['该优惠券不适用于此服务类型'] } }))
    await tap(page, '.submit')
    await flush()
    expect(text(page, '.coupon-error')).toBe('该优惠券不适用于此服务类型')
  })

  test('coupons failing to load leave the request without one', async () => {
    routeForm()
    mp.route('GET', '/api/v1/me/coupons', 500, apiError('internal_error', '服务器内部错误，请稍后重试'))
    mp.route('POST', '/api/v1/service-requests', 201, ORDER)
    const page = await open()
    page.querySelector('.type-picker').dispatchEvent('change', { detail: { value: '0' } })
    await flush()
    expect(page.querySelector('.coupons')).toBeUndefined()
    await tap(page, '.submit')
    await flush()
    expect(sent()[0].data.coupon_id).toBeUndefined()
  })
})
