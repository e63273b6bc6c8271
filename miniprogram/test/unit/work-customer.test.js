const { load, flush, text, tap, apiError } = require('../helpers')
const F = require('./work-fixtures')

beforeEach(() => wx.setStorageSync('linli.token', 't'))

function routeCustomer(detail = [200, F.CUSTOMER_DETAIL], orders = (q) => [200, { items: [F.order(31, 'scheduled'), F.order(30, 'completed', { rating: 5 })], next_cursor: null }]) {
  mp.route('GET', '/api/v1/engineer/customers/21', ...detail)
  mp.route('GET', '/api/v1/engineer/service-orders', (req) => orders(req.query))
}

async function open(options = { id: '21' }) {
  const page = load('pages/work/customer/index')
  page.instance.onLoad(options)
  await flush()
  return page
}

test('the customer with the full phone to call, where they live, my visits and their orders with me', async () => {
  routeCustomer()
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.name')).toBe('陈阿姨')
  expect(text(page, '.profile .small')).toBe('翠竹苑 · 11月20日成为您的客户')
  expect(text(page, '.phone')).toBe('13800000001')
  expect(text(page, '.home-names')).toBe('翠竹苑')
  expect(mp.called('setNavigationBarTitle')).toEqual([expect.objectContaining({ title: '陈阿姨' })])
  await tap(page, '.call')
  expect(mp.called('makePhoneCall')).toEqual([expect.objectContaining({ phoneNumber: '13800000001' })])

  const visits = page.querySelectorAll('.visit').map((v) => v.dom.textContent.replace(/\s+/g, ' ').trim())
  expect(visits).toEqual(['12月1日 09:30翠竹苑工单号 WO-778评分 5 星：很专业', '11月20日 10:00翠竹苑'])
  expect(text(page, '.visits .card-title')).toBe('上门记录2 次')

  const query = Object.fromEntries(mp.requests.find((r) => r.path === '/api/v1/engineer/service-orders').query)
  expect(query).toEqual({ resident_id: '21', limit: '10' })
  const orders = page.querySelectorAll('.order')
  expect(orders).toHaveLength(2)
  expect(text(page, '.order >>> .type')).toBe('#31 维修')
  expect(text(page, '.order >>> .estate')).toBe('翠竹苑')
  expect(text(page, '.order >>> .status')).toBe('待完成')
})

test('a customer who left no phone has no call button', async () => {
  routeCustomer([200, { ...F.CUSTOMER_DETAIL, phone: null, display_name: '', visits: [] }])
  const page = await open()
  expect(text(page, '.phone')).toBe('住户未留手机号')
  expect(page.querySelector('.call')).toBeUndefined()
  expect(text(page, '.name')).toBe('未设置昵称')
  expect(text(page, '.no-visits')).toContain('还没有上门记录')
})

test('an order completed here shows as completed', async () => {
  routeCustomer()
  mp.route('POST', '/api/v1/engineer/service-orders/31/complete', 200, F.order(31, 'completed'))
  const page = await open()
  await tap(page, '.order >>> .complete')
  await flush()
  expect(page.data.orders.map((o) => o.status)).toEqual(['completed', 'completed'])
  expect(text(page, '.order >>> .status')).toBe('已完成')
})

test('more orders load at the bottom', async () => {
  routeCustomer(undefined, (q) => [200, q.get('cursor') ? { items: [F.order(29, 'cancelled')], next_cursor: null } : { items: [F.order(31)], next_cursor: 'n' }])
  const page = await open()
  page.instance.onReachBottom()
  await flush()
  expect(page.data.orders.map((o) => o.id)).toEqual([31, 29])
  expect(text(page, '.more')).toBe('没有更多了')
})

test('no orders, or orders that fail to load (with their own retry)', async () => {
  let calls = 0
  routeCustomer(undefined, () => (calls++ === 0 ? ['network'] : [200, { items: [], next_cursor: null }]))
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.orders-error >>> .message')).toBe('服务单加载失败')
  await tap(page, '.orders-error >>> .action')
  expect(text(page, '.no-orders >>> .message')).toBe('这位客户还没有找您下过服务单')
})

test('someone who is not my customer: said, without a pointless retry', async () => {
  routeCustomer([404, apiError('customer_not_found', '客户不存在')])
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('客户不存在')
  expect(page.querySelector('.load-error >>> .action')).toBeUndefined()
})

test('a network failure can be retried; no id is an error at once', async () => {
  let calls = 0
  mp.route('GET', '/api/v1/engineer/customers/21', () => (calls++ === 0 ? ['network'] : [200, F.CUSTOMER_DETAIL]))
  mp.route('GET', '/api/v1/engineer/service-orders', 200, { items: [], next_cursor: null })
  const page = await open()
  expect(text(page, '.load-error >>> .message')).toBe('加载失败，请检查网络')
  await tap(page, '.load-error >>> .action')
  expect(text(page, '.name')).toBe('陈阿姨')
  const none = await open({})
  expect(text(none, '.load-error >>> .message')).toBe('没有找到这位客户')
})

describe('the book', () => {
  const BASE = '/api/v1/engineer/customers/21'
  const posts = () => mp.requests.filter((r) => r.method === 'POST')
  const texts = (page, sel) => page.querySelectorAll(sel).map((el) => el.dom.textContent.replace(/\s+/g, ' ').trim())

  test('health with its trend and what lowered it; tags as chips', async () => {
    routeCustomer()
    const page = await open()
    expect(text(page, '.health-badge')).toBe('黄色 55')
    expect(page.querySelector('.health-badge').dom.className).toContain('yellow')
    expect(text(page, '.health-trend')).toBe('较上次 ↓45')
    expect(texts(page, '.reason')).toEqual(['· 1 个投诉未处理（-35）', '· 1 项保养已逾期（-10）'])
    expect(text(page, '.health-note')).toBe('每日凌晨计算，最近一次 12月5日 02:30')
    expect(texts(page, '.tag-text')).toEqual(['VIP', '老人独居'])
    expect(texts(page, '.book-tabs .tab')).toEqual(['服务', '家电', '跟进', '备注', '动态'])
  })

  test('not scored yet, all well', async () => {
    routeCustomer([200, { ...F.CUSTOMER_DETAIL, health: null, tags: [] }])
    const page = await open()
    expect(text(page, '.health-badge')).toBe('未评分')
    expect(text(page, '.health-note')).toBe('尚未评分（每日凌晨计算）')
    expect(page.querySelector('.reason')).toBeUndefined()
    routeCustomer([200, { ...F.CUSTOMER_DETAIL, health: F.health(100) }])
    const well = await open()
    expect(text(well, '.reasons')).toBe('各项指标正常')
    expect(well.querySelector('.health-trend')).toBeUndefined()
  })

  test('tags: add one typed or suggested (with an Idempotency-Key), remove one', async () => {
    routeCustomer()
    let tags = ['VIP', '老人独居']
    mp.route('GET', `${BASE}/tags`, () => [200, F.tags(tags)])
    mp.route('POST', `${BASE}/tags`, (req) => { tags = [...tags, req.data.tag]; return [200, F.tags(tags)] })
    mp.route('DELETE', /\/api\/v1\/engineer\/customers\/21\/tags\/.+/, (req) => {
      const tag = decodeURIComponent(req.path.split('/').pop())
      tags = tags.filter((t) => t !== tag)
      return [200, F.tags(tags)]
    })
    const page = await open()
    await tap(page, '.add-tag')
    expect(texts(page, '.suggestion')).toEqual(['有宠物', '白天不在家', '需提前电话', '多套房产', '价格敏感', '意见领袖'])
    await tap(page, '.add-tag-button')
    expect(text(page, '.tag-error')).toBe('请输入标签')
    page.instance.onTagInput({ detail: { value: ' 周末在家 ' } })
    await tap(page, '.add-tag-button')
    expect(texts(page, '.tag-text')).toEqual(['VIP', '老人独居', '周末在家'])
    expect(page.data.tagging).toBe(false)
    await tap(page, '.add-tag')
    await tap(page, '.suggestion')
    expect(texts(page, '.tag-text')).toEqual(['VIP', '老人独居', '周末在家', '有宠物'])
    expect(posts().map((r) => r.data)).toEqual([{ tag: '周末在家' }, { tag: '有宠物' }])
    expect(posts().every((r) => r.header['Idempotency-Key'])).toBe(true)
    await tap(page, '.remove-tag')
    expect(texts(page, '.tag-text')).toEqual(['老人独居', '周末在家', '有宠物'])
    expect(mp.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([`${BASE}/tags/VIP`])
  })

  test('a tag refused says why', async () => {
    routeCustomer()
    mp.route('GET', `${BASE}/tags`, 200, F.tags(['VIP']))
    mp.route('POST', `${BASE}/tags`, 409, apiError('too_many_tags', '每位客户最多 20 个标签'))
    const page = await open()
    await tap(page, '.add-tag')
    page.instance.onTagInput({ detail: { value: '再来一个' } })
    await tap(page, '.add-tag-button')
    expect(text(page, '.tag-error')).toBe('每位客户最多 20 个标签')
  })

  test('家电: the appliances with warranty and next care; 登记家电 with a model, serial and day', async () => {
    routeCustomer()
    let products = [F.product(41), F.product(42, { in_warranty: false, warranty_end: '2025-01-01', warranty_days_left: 0, address: '',
      next_care: { ...F.product(42).next_care, overdue: true, days_left: -3, due_on: '2026-12-02' } })]
    mp.route('GET', `${BASE}/products`, () => [200, { items: products, next_cursor: null }])
    mp.route('GET', '/api/v1/product-models', (req) => [200, { items: req.query.get('q') === 'KT'
      ? [F.productModel(2, 'KT-35', '挂式空调 35', { category: 'air_conditioner', category_label: '空调' })]
      : [F.productModel(1, 'RO-600G', '净水器 RO-600G'), F.productModel(2, 'KT-35', '挂式空调 35', { category: 'air_conditioner', category_label: '空调' })],
    next_cursor: null }])
    mp.route('POST', `${BASE}/products`, (req) => {
      if (req.data.serial === 'TAKEN') return [409, apiError('serial_conflict', '该序列号的产品已登记在其他用户名下，客服将核实后与您联系')]
      const created = F.product(43, { serial: req.data.serial.toUpperCase(), install_date: req.data.install_date })
      products = [created, ...products]
      return [201, created]
    })
    const page = await open()
    await tap(page, '.tab-products')
    expect(texts(page, '.product-model')).toEqual(['净水器 RO-600G', '净水器 RO-600G'])
    expect(text(page, '.product-serial')).toBe('RO-600G · 序列号 SN000041')
    expect(text(page, '.product-dates')).toBe('6月15日安装 · 保修至 2028年6月15日')
    expect(text(page, '.next-care')).toBe('下次保养：滤芯更换 · 12月15日')
    expect(text(page, '.product-place')).toBe('翠竹苑 · 3栋1单元502')
    expect(texts(page, '.next-care')[1]).toBe('下次保养：滤芯更换 · 12月2日（已逾期 3 天）')
    expect(page.querySelectorAll('.next-care')[1].dom.className).toContain('late')
    expect(texts(page, '.product-dates')[1]).toBe('6月15日安装 · 已过保')

    await tap(page, '.register')
    expect(page.data.models.map((m) => m.label)).toEqual(['净水器 · 净水器 RO-600G（RO-600G）', '空调 · 挂式空调 35（KT-35）'])
    expect(text(page, '.model-value')).toBe('请选择型号')
    await tap(page, '.submit-product')
    expect([text(page, '.model-error'), text(page, '.serial-error')]).toEqual(['请选择型号', '请填写序列号'])
    page.instance.onModelQuery({ detail: { value: 'KT' } })
    await tap(page, '.search-models')
    expect(text(page, '.model-value')).toBe('空调 · 挂式空调 35（KT-35）') // the only match is chosen
    page.querySelector('.model-picker').dispatchEvent('change', { detail: { value: 0 } })
    page.instance.onSerial({ detail: { value: 'TAKEN' } })
    await tap(page, '.submit-product')
    expect(text(page, '.reg-error')).toBe('该序列号的产品已登记在其他用户名下，客服将核实后与您联系')
    page.instance.onSerial({ detail: { value: ' kt2026x ' } })
    page.querySelector('.install-date').dispatchEvent('change', { detail: { value: '2026-12-01' } })
    await tap(page, '.submit-product')
    await flush()
    expect(posts().map((r) => r.data).pop()).toEqual({ model_id: 2, serial: 'kt2026x', install_date: '2026-12-01' })
    expect(mp.called('showToast').pop().title).toBe('已登记')
    expect(page.data.registering).toBe(false)
    expect(page.data.products.map((p) => p.id)).toEqual([43, 41, 42])
  })

  test('家电: none yet, and a failed load with its own retry', async () => {
    routeCustomer()
    let calls = 0
    mp.route('GET', `${BASE}/products`, () => (calls++ === 0 ? ['network'] : [200, { items: [], next_cursor: null }]))
    const page = await open()
    await tap(page, '.tab-products')
    expect(text(page, '.products-error >>> .message')).toBe('家电加载失败')
    await tap(page, '.products-error >>> .action')
    expect(text(page, '.no-products >>> .message')).toBe('还没有登记家电')
  })

  test('跟进: open ones and the done, add one with a day and what (422 under its field), mark one done', async () => {
    routeCustomer()
    let items = [F.followUp(3, { due_on: '2026-11-30', overdue: true }), F.followUp(2, { done: true, done_at: '2026-12-01T02:00:00+00:00' })]
    mp.route('GET', `${BASE}/follow-ups`, () => [200, { items }])
    mp.route('POST', `${BASE}/follow-ups`, (req) => {
      if (req.data.text === '太早') return [422, apiError('validation_error', '跟进日期不能早于今天', { fields: { due_on: ['跟进日期不能早于今天'] } })]
      const created = F.followUp(4, { due_on: req.data.due_on, text: req.data.text })
      items = [items[0], created, items[1]]
      return [201, created]
    })
    mp.route('POST', '/api/v1/engineer/follow-ups/3/done', 200, F.followUp(3, { due_on: '2026-11-30', done: true, done_at: '2026-12-05T02:00:00+00:00' }))
    const page = await open()
    await tap(page, '.tab-followUps')
    expect(texts(page, '.fu-text')).toEqual(['回访净水器出水情况', '回访净水器出水情况'])
    expect(text(page, '.fu-overdue')).toBe('已逾期')
    expect(texts(page, '.fu-author')).toEqual(['王建国', '王建国 · 12月1日 10:00 完成'])
    expect(page.querySelectorAll('.fu-complete')).toHaveLength(1)

    await tap(page, '.add-follow-up')
    expect(text(page, '.follow-up-text-error')).toBe('请写下要跟进的事')
    page.instance.onFollowUpText({ detail: { value: '太早' } })
    await tap(page, '.add-follow-up')
    expect(text(page, '.follow-up-date-error')).toBe('跟进日期不能早于今天')
    page.querySelector('.follow-up-date').dispatchEvent('change', { detail: { value: '2026-12-20' } })
    page.instance.onFollowUpText({ detail: { value: '回访空调噪音' } })
    await tap(page, '.add-follow-up')
    await flush()
    const added = posts().filter((r) => r.path === `${BASE}/follow-ups`)
    const weekAhead = new Date(Date.now() + 8 * 3600e3 + 7 * 86400e3).toISOString().slice(0, 10) // the default, Beijing time
    expect(added.map((r) => r.data)).toEqual([{ due_on: weekAhead, text: '太早' }, { due_on: '2026-12-20', text: '回访空调噪音' }])
    expect(new Set(added.map((r) => r.header['Idempotency-Key'])).size).toBe(2)
    expect(texts(page, '.fu-text')).toEqual(['回访净水器出水情况', '回访空调噪音', '回访净水器出水情况'])
    expect(page.data.fuText).toBe('')

    await tap(page, '.fu-complete')
    expect(page.data.followUps.map((f) => [f.id, f.done])).toEqual([[3, true], [4, false], [2, true]])
    expect(posts().pop().header['Idempotency-Key']).toBeTruthy()
  })

  test('备注: the notes, newest first, and a new one on top', async () => {
    routeCustomer()
    mp.route('GET', `${BASE}/notes`, 200, { items: [F.note(1, '家中有老人，上门前先电话')], next_cursor: null })
    mp.route('POST', `${BASE}/notes`, (req) => [201, F.note(2, req.data.text, { created_at: '2026-12-05T03:00:00+00:00' })])
    const page = await open()
    await tap(page, '.tab-notes')
    expect(texts(page, '.note-body')).toEqual(['家中有老人，上门前先电话'])
    expect(text(page, '.note-meta')).toBe('王建国 · 12月2日 10:00')
    await tap(page, '.add-note')
    expect(text(page, '.note-error')).toBe('请写下备注内容')
    page.instance.onNoteText({ detail: { value: '女儿电话 139 0000 1111' } })
    await tap(page, '.add-note')
    expect(texts(page, '.note-body')).toEqual(['女儿电话 139 0000 1111', '家中有老人，上门前先电话'])
    expect(posts().map((r) => r.data)).toEqual([{ text: '女儿电话 139 0000 1111' }])
    expect(posts()[0].header['Idempotency-Key']).toBeTruthy()
    expect(page.data.noteText).toBe('')
  })

  test('动态: everything, newest first, more at the bottom; reloaded after a write', async () => {
    routeCustomer()
    mp.route('GET', `${BASE}/timeline`, (req) => [200, req.query.get('cursor') === 't2'
      ? { items: [F.TIMELINE[3]], next_cursor: null } : { items: F.TIMELINE.slice(0, 3), next_cursor: 't2' }])
    mp.route('GET', `${BASE}/notes`, 200, { items: [], next_cursor: null })
    mp.route('POST', `${BASE}/notes`, 201, F.note(5, '新备注'))
    const page = await open()
    await tap(page, '.tab-timeline')
    expect(texts(page, '.entry-title')).toEqual(['王建国 的备注', '保养暂缓：滤芯更换（净水器 RO-600G）', '登记产品：净水器 RO-600G'])
    expect(texts(page, '.entry-detail')[1]).toBe('暂缓至 2026-12-08')
    expect(text(page, '.entry-at')).toBe('12月5日 14:08')
    expect(text(page, '.more')).toBe('上拉加载更早的动态')
    page.instance.onReachBottom()
    await flush()
    expect(texts(page, '.entry-title')).toHaveLength(4)
    expect(text(page, '.more')).toBe('没有更早的动态了')
    const timelineCalls = () => mp.requests.filter((r) => r.path === `${BASE}/timeline`).length
    expect(timelineCalls()).toBe(2)

    // opening it again loads nothing; after a note it reloads
    await tap(page, '.tab-notes')
    await tap(page, '.tab-timeline')
    expect(timelineCalls()).toBe(2)
    await tap(page, '.tab-notes')
    page.instance.onNoteText({ detail: { value: '新备注' } })
    await tap(page, '.add-note')
    await tap(page, '.tab-timeline')
    expect(timelineCalls()).toBe(3)
  })

  test('pull-down reloads the customer and the tab shown', async () => {
    routeCustomer()
    mp.route('GET', `${BASE}/notes`, 200, { items: [], next_cursor: null })
    const page = await open()
    await tap(page, '.tab-notes')
    await page.instance.onPullDownRefresh()
    const paths = mp.requests.map((r) => r.path)
    expect(paths.filter((p) => p === BASE)).toHaveLength(2)
    expect(paths.filter((p) => p === `${BASE}/notes`)).toHaveLength(2)
    expect(paths.filter((p) => p === '/api/v1/engineer/service-orders')).toHaveLength(1)
    expect(mp.called('stopPullDownRefresh')).toHaveLength(1)
  })
})
