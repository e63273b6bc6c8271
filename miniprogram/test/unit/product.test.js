const { load, flush, text, tap, apiError } = require('../helpers')
const F = require('./care-fixtures')

beforeEach(() => {
  wx.setStorageSync('linli.token', 'tok')
  jest.spyOn(Date, 'now').mockReturnValue(Date.parse('2026-12-08T02:00:00Z'))
})
afterEach(() => jest.restoreAllMocks())

const BOOK = { items: [F.address(2, { text: '翠竹苑 5栋 502', building: '5栋', room: '502' }), F.address(3, { is_default: true })] }

async function open(options = {}) {
  const page = load('pages/product/index')
  page.instance.onLoad(options)
  await flush()
  return page
}

/** Fire a component event on the first element matching the selector. */
async function fire(page, selector, event, detail = {}) {
  page.querySelector(selector).dispatchEvent(event, { detail })
  await flush()
}

const texts = (page, selector) => page.querySelectorAll(selector).map((n) => n.dom.textContent.replace(/\s+/g, ' ').trim())

describe('one appliance', () => {
  test('its model, serial, dates, warranty, place and every maintenance plan with when it is due', async () => {
    mp.route('GET', '/api/v1/me/products/7', 200, F.productDetail(7, {
      installer: { id: 3, name: '王建国' }, source: 'engineer', source_label: '工程师登记' }))
    const page = await open({ id: '7' })
    expect(page.data.state).toBe('ready')
    expect(mp.called('setNavigationBarTitle')[0].title).toBe('家电详情')
    expect(text(page, '.head .name')).toBe('反渗透净水器 RO-600G')
    expect(text(page, '.head .model')).toBe('净水器 · RO-600G')
    expect(text(page, '.warranty')).toBe('保修中')
    expect(page.querySelector('.status')).toBeUndefined()
    expect(text(page, '.serial')).toBe('RO600G20257A')
    expect(text(page, '.installed')).toBe('2025年3月1日')
    expect(text(page, '.purchased')).toBe('2025年2月20日')
    expect(text(page, '.warranty-text')).toBe('至 2027年2月20日（还剩 412 天）')
    expect(text(page, '.place')).toBe('翠竹苑 3栋 2单元 1201')
    expect(text(page, '.installer')).toBe('王建国')
    expect(text(page, '.source')).toBe('工程师登记')
    expect(texts(page, '.schedule-name')).toEqual(['复合滤芯更换', 'RO膜更换'])
    expect(texts(page, '.schedule-due')).toEqual(['还有 12 天', '还有 83 天'])
    expect(page.data.product.schedules.map((s) => s.badge)).toEqual(['warn', 'muted'])
    expect(texts(page, '.schedule-when')).toEqual(['下次：12月20日 周日', '下次：2027年3月1日 周一'])
    expect(text(page, '.schedule-description')).toBe('RO-600G 采用复合滤芯，每 12 个月更换一次。')
    await tap(page, '.care')
    expect(mp.called('navigateTo')[0].url).toBe('/pages/care/index')
  })

  test('an appliance out of warranty with overdue and finished plans, and one retired without actions', async () => {
    mp.route('GET', '/api/v1/me/products/7', 200, F.productDetail(7, { warranty_end: '2026-02-20', in_warranty: false, warranty_days_left: 0 }, [
      F.schedule(4, '复合滤芯更换', '2026-12-01', { last_done_on: '2025-12-01' }), F.schedule(6, '安装回访', null, { last_done_on: '2025-03-31' })]))
    const page = await open({ id: '7' })
    expect(text(page, '.warranty')).toBe('已过保')
    expect(text(page, '.warranty-text')).toBe('已于 2026年2月20日 过保')
    expect(texts(page, '.schedule-due')).toEqual(['已逾期 7 天'])
    expect(texts(page, '.schedule-when')).toEqual(['下次：12月1日 周二 · 上次：2025年12月1日', '已无后续保养 · 上次：2025年3月31日'])
    expect(page.querySelector('.edit')).toBeTruthy()

    mp.route('GET', '/api/v1/me/products/8', 200, F.productDetail(8, { status: 'retired', status_label: '已停用', next_care: null }, []))
    const retired = await open({ id: '8' })
    expect(text(retired, '.status')).toBe('已停用')
    expect(text(retired, '.no-schedules')).toBe('已停用，不再提醒保养')
    expect(retired.querySelector('.edit')).toBeUndefined()
    expect(retired.querySelector('.retire')).toBeUndefined()
  })

  test("someone else's or an unknown product is not found; a failed load offers 重试", async () => {
    mp.route('GET', '/api/v1/me/products/9', 404, apiError('product_not_found', '产品不存在'))
    const page = await open({ id: '9' })
    expect(page.data.state).toBe('missing')
    expect(text(page, '.missing >>> .message')).toBe('家电不存在')
    mp.route('GET', '/api/v1/me/products/7', 'network')
    const failed = await open({ id: '7' })
    expect(text(failed, '.load-error >>> .message')).toBe('家电信息加载失败')
    mp.route('GET', '/api/v1/me/products/7', 200, F.productDetail(7))
    await tap(failed, '.load-error >>> .action')
    expect(failed.data.state).toBe('ready')
  })

  test('停用 asks first, then retires it: no more care, no more actions', async () => {
    mp.route('GET', '/api/v1/me/products/7', 200, F.productDetail(7))
    mp.route('POST', '/api/v1/me/products/7/retire', 200, F.product(7, { status: 'retired', status_label: '已停用', next_care: null }))
    const page = await open({ id: '7' })
    mp.modalConfirm = false
    await tap(page, '.retire')
    expect(mp.called('showModal')[0].content).toContain('「反渗透净水器 RO-600G」已不再使用')
    expect(mp.requests.some((r) => r.path.endsWith('/retire'))).toBe(false)
    mp.modalConfirm = true
    await tap(page, '.retire')
    expect(mp.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/me/products/7/retire')).toHaveLength(1)
    expect(text(page, '.status')).toBe('已停用')
    expect(text(page, '.no-schedules')).toBe('已停用，不再提醒保养')
    expect(page.querySelector('.retire')).toBeUndefined()
    expect(mp.called('showToast').pop().title).toBe('已停用')
  })

  test('修改 corrects the dates and the place (the model and serial stay), then shows the product again', async () => {
    let saved = false
    mp.route('GET', '/api/v1/me/products/7', () => [200, F.productDetail(7, saved ? { install_date: '2025-04-01' } : {})])
    mp.route('GET', '/api/v1/me/addresses', 200, BOOK)
    mp.route('POST', '/api/v1/me/products/7', (req) => { saved = true; return [200, F.product(7, { install_date: req.data.install_date })] })
    const page = await open({ id: '7' })
    await tap(page, '.edit')
    expect(page.data.mode).toBe('edit')
    expect(mp.called('setNavigationBarTitle').pop().title).toBe('修改家电信息')
    expect(text(page, '.model-fixed')).toBe('反渗透净水器 RO-600G · RO-600G')
    expect(text(page, '.serial-fixed')).toBe('RO600G20257A')
    expect(page.querySelector('.category-picker')).toBeUndefined()
    expect(page.querySelector('.scan')).toBeUndefined()
    expect(text(page, '.install-date')).toBe('2025-03-01')
    expect(text(page, '.purchase-date')).toBe('2025-02-20')
    expect(text(page, '.address-text')).toBe('翠竹苑 3栋 2单元 1201')  // its own address of the book
    await fire(page, '.install-picker', 'change', { value: '2025-04-01' })
    await tap(page, '.submit')
    const sent = mp.requests.find((r) => r.method === 'POST' && r.path === '/api/v1/me/products/7')
    expect(sent.data).toEqual({ install_date: '2025-04-01', purchase_date: '2025-02-20' })  // the place unchanged: not sent
    expect(sent.header['Idempotency-Key']).toBeTruthy()
    expect(mp.called('showToast').pop().title).toBe('已保存')
    expect(page.data.mode).toBe('view')
    expect(text(page, '.installed')).toBe('2025年4月1日')

    await tap(page, '.edit')
    await fire(page, '.address-picker', 'change', { value: '0' })
    expect(text(page, '.address-text')).toBe('翠竹苑 5栋 502')
    await tap(page, '.submit')
    const moved = mp.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/me/products/7')[1]
    expect(moved.data).toEqual({ install_date: '2025-04-01', purchase_date: '2025-02-20', address_id: 2 })
  })

  test('an edit refused with field errors shows them under the fields; 取消 goes back to the product', async () => {
    mp.route('GET', '/api/v1/me/products/7', 200, F.productDetail(7))
    mp.route('GET', '/api/v1/me/addresses', 200, BOOK)
    mp.route('POST', '/api/v1/me/products/7', 422, apiError('validation_error', '提交的数据有误',
      { fields: { purchase_date: ['日期不能晚于今天'] } }))
    const page = await open({ id: '7' })
    await tap(page, '.edit')
    await tap(page, '.submit')
    expect(text(page, '.error-purchase_date')).toBe('日期不能晚于今天')
    expect(page.data.mode).toBe('edit')
    await tap(page, '.cancel-edit')
    expect(page.data.mode).toBe('view')
    expect(text(page, '.serial')).toBe('RO600G20257A')
  })
})

describe('adding one', () => {
  test('category then model, the serial scanned, the dates, my default address; sent with an Idempotency-Key', async () => {
    mp.route('GET', '/api/v1/me/addresses', 200, BOOK)
    mp.route('GET', '/api/v1/product-models', (req) => [200, { items: req.query.get('category') === 'water_purifier'
      ? [F.RO600, F.RO800] : [], next_cursor: null }])
    mp.route('POST', '/api/v1/me/products', 201, F.product(21))
    mp.scanResult = ' RO600G2025X1 '
    const page = await open()
    expect(page.data.mode).toBe('new')
    expect(mp.called('setNavigationBarTitle')[0].title).toBe('添加家电')
    expect(text(page, '.address-text')).toBe('翠竹苑 3栋 2单元 1201')  // the default address
    expect(text(page, '.model-choice')).toBe('选择型号')
    await fire(page, '.category-picker', 'change', { value: '1' })  // 空调: nothing on offer
    expect(text(page, '.model-choice')).toBe('暂无型号')
    await fire(page, '.category-picker', 'change', { value: '0' })
    const asked = mp.requests.filter((r) => r.path === '/api/v1/product-models').map((r) => [r.query.get('category'), r.query.get('limit')])
    expect(asked).toEqual([['air_conditioner', '100'], ['water_purifier', '100']])
    expect(page.data.models.map((m) => m.label)).toEqual(['反渗透净水器 RO-600G', '厨下净水器（RO-800）'])
    await fire(page, '.model-picker', 'change', { value: '1' })
    expect(text(page, '.model-choice')).toBe('厨下净水器（RO-800）')
    await tap(page, '.scan')
    expect(mp.called('scanCode')[0].scanType).toEqual(['barCode', 'qrCode'])
    expect(page.data.serial).toBe('RO600G2025X1')
    expect(page.data.today).toBe('2026-12-08')  // the date pickers end today (Beijing)
    await fire(page, '.install-picker', 'change', { value: '2026-06-01' })
    await fire(page, '.purchase-picker', 'change', { value: '2026-05-20' })
    expect(text(page, '.install-date')).toBe('2026-06-01')
    await tap(page, '.submit')
    const sent = mp.requests.find((r) => r.method === 'POST' && r.path === '/api/v1/me/products')
    expect(sent.data).toEqual({ model_id: 4, serial: 'RO600G2025X1', install_date: '2026-06-01', purchase_date: '2026-05-20', address_id: 3 })
    expect(sent.header['Idempotency-Key']).toMatch(/^[a-z0-9]+-[a-z0-9]+$/)
    expect(mp.called('showToast').pop().title).toBe('家电已登记')
    expect(mp.called('redirectTo')[0].url).toBe('/pages/product/index?id=21')
  })

  test('the model found by the nameplate code; a cancelled scan leaves the serial; dates left empty are sent as none', async () => {
    mp.route('GET', '/api/v1/me/addresses', 200, { items: [] })
    mp.route('GET', '/api/v1/product-models', 200, { items: [F.KFR35], next_cursor: null })
    mp.route('POST', '/api/v1/me/products', 200, F.product(9, { model: F.brief(F.KFR35) }))  // on record already: the same product
    const page = await open()
    await fire(page, '.model-query', 'input', { value: 'kfr-35' })
    await tap(page, '.search-button')
    expect(mp.requests.find((r) => r.path === '/api/v1/product-models').query.get('q')).toBe('kfr-35')
    expect(texts(page, '.result-name')).toEqual(['挂壁式空调 KFR-35GW'])
    await tap(page, '.result')
    expect(text(page, '.category-name')).toBe('空调')
    expect(text(page, '.model-choice')).toBe('挂壁式空调 KFR-35GW')
    expect(page.querySelector('.result')).toBeUndefined()
    await fire(page, '.input-serial', 'input', { value: 'kfr35gw0001' })
    await tap(page, '.scan')  // cancelled: mp.scanResult is null
    expect(page.data.serial).toBe('kfr35gw0001')
    await tap(page, '.submit')
    expect(mp.requests.find((r) => r.method === 'POST').data).toEqual({ model_id: 8, serial: 'kfr35gw0001', install_date: null,
      purchase_date: null, address_id: null })
    expect(mp.called('redirectTo')[0].url).toBe('/pages/product/index?id=9')
  })

  test('no address yet: 添加地址 opens the address form, and coming back picks up the new one', async () => {
    let book = { items: [] }
    mp.route('GET', '/api/v1/me/addresses', () => [200, book])
    const page = await open()
    expect(text(page, '.address-text')).toBe('还没有地址，上门保养需要地址')
    await tap(page, '.add-address')
    expect(mp.called('navigateTo')[0].url).toBe('/pages/address/index')
    book = { items: [F.address(3, { is_default: true })] }
    page.instance.onShow()
    await flush()
    expect(text(page, '.address-text')).toBe('翠竹苑 3栋 2单元 1201')
  })

  test('the light checks stop an incomplete form before any call', async () => {
    mp.route('GET', '/api/v1/me/addresses', 200, BOOK)
    const page = await open()
    await tap(page, '.submit')
    expect(text(page, '.error-model_id')).toBe('请选择型号')
    expect(text(page, '.error-serial')).toBe('请填写或扫描序列号')
    expect(mp.requests.filter((r) => r.method === 'POST')).toEqual([])
    await fire(page, '.input-serial', 'input', { value: 'X1' })
    expect(page.querySelector('.error-serial')).toBeUndefined()
    expect(text(page, '.error-model_id')).toBe('请选择型号')
  })

  test("the server's field errors show under their fields", async () => {
    mp.route('GET', '/api/v1/me/addresses', 200, BOOK)
    mp.route('GET', '/api/v1/product-models', 200, { items: [F.RO600], next_cursor: null })
    mp.route('POST', '/api/v1/me/products', 422, apiError('validation_error', '提交的数据有误', { fields: {
      serial: ['序列号须为 1–64 个英文字母、数字或符号（不含空格）'], install_date: ['日期不能晚于今天'],
      model_id: ['型号不存在'] } }))
    const page = await open()
    await fire(page, '.category-picker', 'change', { value: '0' })
    await fire(page, '.model-picker', 'change', { value: '0' })
    await fire(page, '.input-serial', 'input', { value: 'RO 600' })
    await tap(page, '.submit')
    expect(text(page, '.error-serial')).toBe('序列号须为 1–64 个英文字母、数字或符号（不含空格）')
    expect(text(page, '.error-install_date')).toBe('日期不能晚于今天')
    expect(text(page, '.error-model_id')).toBe('型号不存在')
    expect(page.data.key).toBe('')  // refused: the next save is a new request
    expect(mp.called('redirectTo')).toEqual([])
  })

  test("a serial on record for another household: the server's message under the serial, nothing moved", async () => {
    const message = '该序列号的产品已登记在其他用户名下，客服将核实后与您联系'
    mp.route('GET', '/api/v1/me/addresses', 200, BOOK)
    mp.route('GET', '/api/v1/product-models', 200, { items: [F.RO600], next_cursor: null })
    mp.route('POST', '/api/v1/me/products', 409, apiError('serial_conflict', message, { conflict_id: 5, status: 'open' }))
    const page = await open()
    await fire(page, '.category-picker', 'change', { value: '0' })
    await fire(page, '.model-picker', 'change', { value: '0' })
    await fire(page, '.input-serial', 'input', { value: 'RO600G0001' })
    await tap(page, '.submit')
    expect(text(page, '.conflict')).toBe(message)
    expect(mp.called('showToast')).toEqual([])
    expect(mp.called('redirectTo')).toEqual([])
    await fire(page, '.input-serial', 'input', { value: 'RO600G0002' })
    expect(page.querySelector('.conflict')).toBeUndefined()
  })

  test('a save without an answer keeps its Idempotency-Key for the retry; a changed form gets a new one', async () => {
    mp.route('GET', '/api/v1/me/addresses', 200, BOOK)
    mp.route('GET', '/api/v1/product-models', 200, { items: [F.RO600], next_cursor: null })
    let calls = 0
    mp.route('POST', '/api/v1/me/products', () => (calls++ < 2 ? ['network'] : [201, F.product(21)]))
    const page = await open()
    await fire(page, '.category-picker', 'change', { value: '0' })
    await fire(page, '.model-picker', 'change', { value: '0' })
    await fire(page, '.input-serial', 'input', { value: 'RO600G0001' })
    await tap(page, '.submit')
    expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
    await tap(page, '.submit')
    await fire(page, '.install-picker', 'change', { value: '2026-06-01' })
    await tap(page, '.submit')
    const keys = mp.requests.filter((r) => r.method === 'POST').map((r) => r.header['Idempotency-Key'])
    expect(keys).toHaveLength(3)
    expect(keys[1]).toBe(keys[0])
    expect(keys[2]).not.toBe(keys[0])
    expect(mp.called('redirectTo')[0].url).toBe('/pages/product/index?id=21')
  })

  test('my address book failing to load shows the error state', async () => {
    mp.route('GET', '/api/v1/me/addresses', 'network')
    const page = await open()
    expect(page.data.state).toBe('error')
    expect(text(page, '.load-error >>> .message')).toBe('没有加载到您的地址')
  })
})
