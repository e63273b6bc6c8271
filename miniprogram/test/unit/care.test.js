const { load, flush, text, tap, apiError } = require('../helpers')
const F = require('./care-fixtures')

beforeEach(() => wx.setStorageSync('linli.token', 'tok'))

const texts = (page, selector) => page.querySelectorAll(selector).map((n) => n.dom.textContent.replace(/\s+/g, ' ').trim())

async function open(options = {}) {
  const page = load('pages/care/index')
  page.instance.onLoad(options)
  await flush()
  return page
}

describe('one reminder (what the notice opens)', () => {
  test('what is due, for which appliance, when, and who will come; 预约上门 books it in one tap', async () => {
    mp.route('GET', '/api/v1/me/reminders/31', 200, F.careItem(31))
    mp.route('POST', '/api/v1/me/reminders/31/book', 200, F.booking(31, 41, true, { preferred_slot: '周六上午' }))
    const page = await open({ id: '31' })
    expect(page.data.state).toBe('ready')
    expect(text(page, '.plan')).toBe('复合滤芯更换')
    expect(text(page, '.status')).toBe('待预约')
    expect(text(page, '.product')).toBe('净水器 反渗透净水器 RO-600G')
    expect(text(page, '.serial')).toBe('序列号 RO600G20257A')
    expect(text(page, '.due')).toMatch(/^到期：(2026年)?12月20日 周日$/)
    expect(text(page, '.due-in')).toBe('还有 12 天')
    expect(text(page, '.description')).toBe('RO-600G 采用复合滤芯，每 12 个月更换一次（替代品类的 6 个月滤芯计划）。')
    expect(text(page, '.steward-name')).toBe('王建国师傅')
    expect(text(page, '.role')).toBe('您的管家')
    expect(text(page, '.estate')).toBe('翠竹苑')
    expect(text(page, '.address')).toBe('上门地址：翠竹苑 3栋 2单元 1201')
    expect(page.data.item.steward.photo).toBe('http://127.0.0.1:5000/api/v1/uploads/wang.jpg')
    page.querySelector('.preferred-time').dispatchEvent('input', { detail: { value: ' 周六上午 ' } })
    await tap(page, '.book')
    const sent = mp.requests.find((r) => r.method === 'POST')
    expect(sent.path).toBe('/api/v1/me/reminders/31/book')
    expect(sent.data).toEqual({ preferred_time: '周六上午' })
    expect(sent.header['Idempotency-Key']).toMatch(/^[a-z0-9]+-[a-z0-9]+$/)
    expect(page.querySelector('.book')).toBeUndefined()
    expect(text(page, '.status')).toBe('已预约')
    expect(text(page, '.booked-title')).toBe('已预约上门')
    expect(text(page, '.order-line')).toBe('服务单 #41 · 已派单 · 王建国师傅')
    expect(page.querySelector('.due-in')).toBeUndefined()
    expect(mp.called('showToast').pop().title).toBe('已预约上门')
    await tap(page, '.open-order')
    expect(mp.called('navigateTo')[0].url).toBe('/pages/order/index?id=41')
  })

  test('booked already: its order; a second tap elsewhere that found the booking says so', async () => {
    mp.route('GET', '/api/v1/me/reminders/31', 200, F.careItem(31, { status: 'booked', status_label: '已预约', order_id: 41, can_book: false }))
    const page = await open({ id: '31' })
    expect(text(page, '.status')).toBe('已预约')
    expect(text(page, '.order-line')).toBe('服务单 #41，师傅会联系您确认上门时间')
    await tap(page, '.open-order')
    expect(mp.called('navigateTo')[0].url).toBe('/pages/order/index?id=41')

    mp.route('GET', '/api/v1/me/reminders/32', 200, F.careItem(32))
    mp.route('POST', '/api/v1/me/reminders/32/book', 200, F.booking(32, 41, false))
    const again = await open({ id: '32' })
    await tap(again, '.book')
    expect(mp.called('showToast').pop().title).toBe('已预约过，这是您的服务单')
    expect(text(again, '.order-line')).toBe('服务单 #41 · 已派单 · 王建国师傅')
  })

  test.each([
    ['done', '已完成', '这次保养已完成'],
    ['done_elsewhere', '已在别处完成', '这次保养已在别处完成'],
    ['declined', '已跳过', '这次保养已跳过，下次到期时会再提醒您'],
    ['cancelled', '已取消', '这条提醒已取消（家电已停用或保养计划有调整）'],
  ])('a closed reminder (%s) says how it closed and offers no booking', async (status, statusText, closed) => {
    mp.route('GET', '/api/v1/me/reminders/31', 200, F.careItem(31, { status, status_label: '?', can_book: false }))
    const page = await open({ id: '31' })
    expect(text(page, '.status')).toBe(statusText)
    expect(text(page, '.closed-text')).toBe(closed)
    expect(page.querySelector('.book')).toBeUndefined()
    expect(page.querySelector('.due-in')).toBeUndefined()
    await tap(page, '.products')
    expect(mp.called('navigateTo')[0].url).toBe('/pages/products/index')
  })

  test('closed meanwhile (409): the server says so and the page shows where it stands', async () => {
    let closed = false
    mp.route('GET', '/api/v1/me/reminders/31', () => [200, closed ? F.careItem(31, { status: 'done_elsewhere', can_book: false }) : F.careItem(31)])
    mp.route('POST', '/api/v1/me/reminders/31/book', () => {
      closed = true
      return [409, apiError('care_item_closed', '该保养提醒已关闭（已在别处完成），不能再更改', { status: 'done_elsewhere' })]
    })
    const page = await open({ id: '31' })
    await tap(page, '.book')
    expect(mp.called('showToast').pop().title).toBe('该保养提醒已关闭（已在别处完成），不能再更改')
    expect(text(page, '.closed-text')).toBe('这次保养已在别处完成')
    expect(page.querySelector('.book')).toBeUndefined()
  })

  test("a booking the server refuses shows its message by the button; the next tap is a new request", async () => {
    mp.route('GET', '/api/v1/me/reminders/31', 200, F.careItem(31, { estate: null }))
    mp.route('POST', '/api/v1/me/reminders/31/book', 409, apiError('product_without_estate', '该产品没有登记小区，无法预约，请联系客服'))
    const page = await open({ id: '31' })
    await tap(page, '.book')
    expect(text(page, '.book-error')).toBe('该产品没有登记小区，无法预约，请联系客服')
    expect(page.data.key).toBe('')
    mp.route('POST', '/api/v1/me/reminders/31/book', 422, apiError('validation_error', '提交的数据有误',
      { fields: { preferred_time: ['最多 64 个字'] } }))
    await tap(page, '.book')
    expect(text(page, '.book-error')).toBe('最多 64 个字')
    expect(page.querySelector('.book')).toBeTruthy()
    const keys = mp.requests.filter((r) => r.method === 'POST').map((r) => r.header['Idempotency-Key'])
    expect(keys[1]).not.toBe(keys[0])
  })

  test('a booking without an answer keeps its Idempotency-Key, so the retry books once', async () => {
    mp.route('GET', '/api/v1/me/reminders/31', 200, F.careItem(31))
    let calls = 0
    mp.route('POST', '/api/v1/me/reminders/31/book', () => (calls++ === 0 ? ['network'] : [200, F.booking(31, 41)]))
    const page = await open({ id: '31' })
    await tap(page, '.book')
    expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
    expect(page.querySelector('.book-error')).toBeUndefined()
    await tap(page, '.book')
    const keys = mp.requests.filter((r) => r.method === 'POST').map((r) => r.header['Idempotency-Key'])
    expect(keys).toHaveLength(2)
    expect(keys[1]).toBe(keys[0])
    expect(text(page, '.booked-title')).toBe('已预约上门')
  })

  test("an estate's engineer, or nobody yet; an overdue one", async () => {
    mp.route('GET', '/api/v1/me/reminders/31', 200, F.careItem(31, { is_my_steward: false, days_left: -3, overdue: true,
      steward: { id: 4, name: '李强', photo_url: null } }))
    const page = await open({ id: '31' })
    expect(text(page, '.role')).toBe('小区工程师')
    expect(text(page, '.initial')).toBe('李')
    expect(text(page, '.due-in')).toBe('已逾期 3 天')
    expect(page.data.item.dueBadge).toBe('danger')
    mp.route('GET', '/api/v1/me/reminders/32', 200, F.careItem(32, { steward: null, is_my_steward: false, estate: null }))
    const nobody = await open({ id: '32' })
    expect(text(nobody, '.no-steward')).toBe('客服会为您安排师傅上门')
  })

  test("someone else's reminder is not found; a failed load offers 重试", async () => {
    mp.route('GET', '/api/v1/me/reminders/99', 404, apiError('care_item_not_found', '保养提醒不存在'))
    const page = await open({ id: '99' })
    expect(page.data.state).toBe('missing')
    expect(text(page, '.missing >>> .message')).toBe('保养提醒不存在')
    mp.route('GET', '/api/v1/me/reminders/31', 'network')
    const failed = await open({ id: '31' })
    expect(text(failed, '.load-error >>> .message')).toBe('保养提醒加载失败')
    mp.route('GET', '/api/v1/me/reminders/31', 200, F.careItem(31))
    await tap(failed, '.load-error >>> .action')
    expect(text(failed, '.plan')).toBe('复合滤芯更换')
  })
})

describe('the list', () => {
  const PAGE1 = { items: [
    F.careItem(31, { days_left: -2, overdue: true, due_on: '2026-12-03' }),
    F.careItem(32, { status: 'booked', status_label: '已预约', order_id: 41, can_book: false }),
    F.careItem(33, { status: 'snoozed', status_label: '稍后提醒', days_left: 20, steward: null, is_my_steward: false,
      product: { ...F.careItem(33).product, category_label: '空调', model_name: '挂壁式空调 KFR-35GW' },
      plan: { ...F.careItem(33).plan, name: '年度清洗', service_type: 'cleaning', service_type_label: '清洗' } }),
  ], next_cursor: 'c2' }
  const PAGE2 = { items: [F.careItem(34, { is_my_steward: false, steward: { id: 4, name: '李强', photo_url: null } })], next_cursor: null }

  test('the care my appliances need, the soonest first, page by page; a tap opens one', async () => {
    mp.route('GET', '/api/v1/me/reminders', (req) => [200, req.query.get('cursor') === 'c2' ? PAGE2 : PAGE1])
    const page = await open()
    expect(page.data.state).toBe('ready')
    expect(texts(page, '.care-item .plan')).toEqual(['复合滤芯更换', '复合滤芯更换', '年度清洗'])
    expect(texts(page, '.care-item .status')).toEqual(['待预约', '已预约', '待预约'])
    expect(texts(page, '.care-item .product')).toEqual(['净水器 反渗透净水器 RO-600G', '净水器 反渗透净水器 RO-600G', '空调 挂壁式空调 KFR-35GW'])
    expect(texts(page, '.due-in')).toEqual(['已逾期 2 天', '还有 20 天'])
    expect(texts(page, '.who-line')).toEqual(['您的管家 王建国师傅上门', '您的管家 王建国师傅上门', '客服会为您安排师傅'])
    page.instance.onReachBottom()
    await flush()
    expect(texts(page, '.who-line')[3]).toBe('小区工程师 李强师傅上门')
    expect(mp.requests.map((r) => r.query.get('cursor'))).toEqual([null, 'c2'])
    expect(text(page, '.more.end')).toBe('没有更多了')
    page.querySelectorAll('.care-item')[2].dispatchEvent('tap')
    await flush()
    expect(mp.called('navigateTo')[0].url).toBe('/pages/care/index?id=33')
  })

  test('nothing due: the empty state leads to my appliances; a failed load offers 重试', async () => {
    mp.route('GET', '/api/v1/me/reminders', 200, { items: [], next_cursor: null })
    const page = await open()
    expect(text(page, '.empty >>> .message')).toBe('暂时没有到期的保养')
    await tap(page, '.empty >>> .action')
    expect(mp.called('navigateTo')[0].url).toBe('/pages/products/index')

    mp.route('GET', '/api/v1/me/reminders', 500, apiError('internal_error', '服务器内部错误，请稍后重试'))
    const failed = await open()
    expect(failed.data.state).toBe('error')
    mp.route('GET', '/api/v1/me/reminders', 200, PAGE1)
    await tap(failed, '.load-error >>> .action')
    expect(failed.data.items).toHaveLength(3)
  })
})
