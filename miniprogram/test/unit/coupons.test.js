const { load, flush, text, tap } = require('../helpers')
const A = require('./activation-fixtures')

A.fixClock()

beforeEach(() => mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 'tok' }))

const TABS = {
  available: [A.coupon(1), A.percentCoupon(2, { valid_from: '2099-01-01', expires_on: '2099-01-31', usable_now: false }),
    A.coupon(3, { code: 'HELD2345HELD', status: 'locked', status_label: '使用中', locked_order_id: 41, source: 'review', source_label: '评价服务' })],
  used: [A.coupon(4, { code: 'USED2345USED', status: 'used', status_label: '已使用', locked_order_id: 38, used_at: '2026-12-01T03:00:00+00:00', discount_fen: 2000 })],
  expired: [],
}

function routeCoupons() {
  mp.route('GET', '/api/v1/me/coupons', (req) => [200, { items: TABS[req.query.get('status')], next_cursor: null }])
}

async function open(options = {}) {
  const page = load('pages/coupons/index')
  page.instance.onLoad(options)
  await flush()
  return page
}

test('可用: each coupon with its face, terms, its own dates, where it came from and its code to copy', async () => {
  routeCoupons()
  const page = await open()
  expect(mp.requests.pop().query.get('status')).toBe('available')
  expect(page.querySelectorAll('.coupon-name').map((n) => n.dom.textContent)).toEqual(['清洗立减券', '保养八五折券', '清洗立减券'])
  expect(text(page, '.coupon-1 .face')).toBe('满100减20')
  expect(page.querySelectorAll('.coupon-1 .term').map((t) => t.dom.textContent)).toEqual(['减 20 元', '订单满 100 元可用', '限维修、清洗服务使用'])
  expect(page.querySelectorAll('.coupon-2 .term').map((t) => t.dom.textContent)).toEqual(['打8.5折，最高减 50 元', '无门槛', '全部服务类型可用'])
  expect(text(page, '.coupon-1 .validity')).toBe('有效期至 2027年1月3日 · 领取')
  expect(text(page, '.coupon-2 .validity')).toBe('2099年1月1日 起可用，2099年1月31日 到期 · 领取')
  expect(text(page, '.coupon-1 .status')).toBe('可使用')
  expect(text(page, '.coupon-1 .code-text')).toBe('XYH3 LET7 V6FX')
  await tap(page, '.coupon-1 .copy')
  expect(mp.called('setClipboardData')[0].data).toBe('XYH3LET7V6FX')
  // held by an open service request: said so, with its order
  expect(text(page, '.coupon-3 .status')).toBe('使用中')
  expect(text(page, '.coupon-3 .note')).toBe('已用于一张服务单，服务完成后核销；服务单取消后退回')
  expect(text(page, '.coupon-3 .validity')).toBe('有效期至 2027年1月3日 · 评价服务')
  await tap(page, '.coupon-3 .order-link')
  expect(mp.called('navigateTo').pop().url).toBe('/pages/order/index?id=41')
})

test('已使用 says when and how much; 已过期 empty says so; ?status= opens a tab', async () => {
  routeCoupons()
  const page = await open({ status: 'used' })
  expect(page.data.tab).toBe('used')
  expect(text(page, '.coupon-4 .note')).toBe('12月1日 11:00 已使用，优惠 ¥20')
  expect(page.querySelector('.coupon-4 .copy')).toBeUndefined()
  expect(page.querySelector('.coupon-4 .face.faded')).toBeTruthy()
  await tap(page, '.tab-expired')
  await flush()
  expect(page.data.state).toBe('empty')
  expect(text(page, '.empty >>> .message')).toBe('没有过期的优惠券')
  await tap(page, '.tab-available')
  await flush()
  expect(page.querySelectorAll('.coupon')).toHaveLength(3)
})

test('no coupon yet says where to claim one; a failed load offers a retry', async () => {
  let answer = ['network']
  mp.route('GET', '/api/v1/me/coupons', () => answer)
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('没有加载到优惠券')
  answer = [200, { items: [], next_cursor: null }]
  await tap(page, '.load-error >>> .action')
  expect(page.data.state).toBe('empty')
  expect(text(page, '.empty >>> .hint')).toBe('小区的优惠券在「小区」页的「优惠活动」里领取')
})
