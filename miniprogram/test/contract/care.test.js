/**
 * Products and due care, against the real server: a resident bound to a steward registers an
 * appliance on the product page (model by category, serial scanned, install date), sees it with
 * its care schedule; the nightly generate-service-reminders run (serve.py's job runner) makes the
 * due care item, which the care list shows and the care page books in one tap; the order is the
 * steward's, assigned. A neighbour claiming the same serial is told an agent will check it: the
 * product stays with its owner.
 */
const { load, waitFor, text, tap, flush } = require('../helpers')
const backend = require('./backend')

/** A resident bound to the engineer by scanning their code (as mp.openid, the pages' WeChat user), with an address. */
async function boundResident(estate, engineerToken) {
  const code = await backend.call('POST', '/api/v1/engineer/binding-codes', { estate_id: estate.id }, engineerToken)
  mp.openid = `o_resident_${backend.unique()}`
  const { code: wxCode } = await backend.wechat('_fake/codes', { openid: mp.openid })
  const bound = await backend.call('POST', '/api/v1/bindings', { code: wxCode, scene: code.scene })
  await backend.call('PUT', '/api/v1/me', { display_name: '陈小明' }, bound.token)
  const address = await backend.call('POST', '/api/v1/me/addresses', { estate_id: estate.id, building: '3', unit: '2', room: '1201',
    contact_name: '陈小明', contact_phone: '13812345678' }, bound.token)
  return { token: bound.token, address }
}

/** A Beijing calendar day `days` from today ("2026-06-01"). */
const beijingDay = (days) => new Date(Date.now() + 8 * 3600e3 + days * 86400e3).toISOString().slice(0, 10)

/** Open the product form and choose the model through the category and model pickers. */
async function formWithModel(model) {
  const form = load('pages/product/index')
  form.instance.onLoad({})
  await waitFor(() => form.data.state !== 'loading', { what: 'the product form' })
  expect(form.data.state).toBe('ready')
  form.querySelector('.category-picker').dispatchEvent('change', { detail: { value: String(form.data.categories.findIndex((c) => c.value === 'water_purifier')) } })
  await waitFor(() => form.data.modelsState === 'ready', { what: 'the category\'s models' })
  const index = form.data.models.findIndex((m) => m.id === model.id)
  expect(index).toBeGreaterThanOrEqual(0)
  form.querySelector('.model-picker').dispatchEvent('change', { detail: { value: String(index) } })
  await flush()
  return form
}

test('register an appliance, its due care is generated, booked in one tap, and the order is the steward\'s', async () => {
  const { estate, token: engineerToken, admin } = await backend.estateWithEngineer('赵建国')
  const n = backend.unique()
  const model = await backend.call('POST', '/api/v1/admin/product-models', {
    code: `CT-${n}`, name: `契约净水器 CT-${n}`, category: 'water_purifier', warranty_months: 24 }, admin)
  await backend.call('POST', '/api/v1/admin/maintenance-plans', { name: '滤芯更换', product_model_id: model.id, service_type: 'maintenance',
    first_due_days: 180, interval_months: 6, lead_days: 14, description: '前置滤芯每 6 个月更换一次。' }, admin)
  const resident = await boundResident(estate, engineerToken)
  const serial = `SN${n}`

  // the product page: the model by category, the serial scanned, installed 170 days ago (care due in 10 days)
  const form = await formWithModel(model)
  expect(text(form, '.address-text')).toBe(resident.address.text)
  mp.scanResult = ` ${serial.toLowerCase()} `
  await tap(form, '.scan')
  form.querySelector('.install-picker').dispatchEvent('change', { detail: { value: beijingDay(-170) } })
  await tap(form, '.submit')
  await waitFor(() => mp.called('redirectTo').length > 0, { what: 'the registered product' })
  const url = mp.called('redirectTo')[0].url
  expect(url).toMatch(/^\/pages\/product\/index\?id=\d+$/)
  const productId = Number(/id=(\d+)/.exec(url)[1])
  const sent = mp.requests.find((r) => r.method === 'POST' && r.path === '/api/v1/me/products')
  expect(sent.header['Idempotency-Key']).toBeTruthy()

  // its page: the serial as stored (upper-case), in warranty, the plan due in 10 days
  const detail = load('pages/product/index')
  detail.instance.onLoad({ id: String(productId) })
  await waitFor(() => detail.data.state !== 'loading', { what: 'the product' })
  expect(text(detail, '.serial')).toBe(serial.toUpperCase())
  expect(text(detail, '.warranty')).toBe('保修中')
  expect(text(detail, '.place')).toBe(resident.address.text)
  expect(detail.querySelectorAll('.schedule-name').map((e) => e.dom.textContent.trim())).toEqual(['滤芯更换'])
  expect(text(detail, '.schedule-due')).toBe('还有 10 天')

  // 我的家电 lists it with its next care
  const list = load('pages/products/index')
  list.instance.onLoad()
  await waitFor(() => list.data.state !== 'loading', { what: 'my products' })
  expect(list.data.items.map((i) => [i.id, i.serial, i.care && i.care.plan, i.care && i.care.due])).toEqual(
    [[productId, serial.toUpperCase(), '滤芯更换', '还有 10 天']])

  // the nightly run makes the due care item, routed to the steward
  const generated = await backend.runJob('generate-service-reminders')
  expect(generated.created).toBeGreaterThanOrEqual(1)
  const reminders = load('pages/care/index')
  reminders.instance.onLoad({})
  await waitFor(() => reminders.data.state !== 'loading', { what: 'my reminders' })
  expect(reminders.data.items).toHaveLength(1)
  const itemId = reminders.data.items[0].id
  expect(text(reminders, '.care-item .plan')).toBe('滤芯更换')
  expect(text(reminders, '.who-line')).toBe('您的管家 赵建国师傅上门')
  expect(text(reminders, '.due-in')).toBe('还有 10 天')

  // the notice's page books it in one tap
  const care = load('pages/care/index')
  care.instance.onLoad({ id: String(itemId) })
  await waitFor(() => care.data.state !== 'loading', { what: 'the reminder' })
  expect(text(care, '.status')).toBe('待预约')
  expect(text(care, '.steward-name')).toBe('赵建国师傅')
  expect(text(care, '.role')).toBe('您的管家')
  care.querySelector('.preferred-time').dispatchEvent('input', { detail: { value: '周六上午' } })
  await tap(care, '.book')
  await waitFor(() => care.data.order !== null, { what: 'the booking' })
  const orderId = care.data.order.id
  expect(text(care, '.status')).toBe('已预约')
  expect(text(care, '.order-line')).toBe(`服务单 #${orderId} · 已派单 · 赵建国师傅`)
  await tap(care, '.open-order')
  expect(mp.called('navigateTo').pop().url).toBe(`/pages/order/index?id=${orderId}`)

  // the steward has the order, assigned, naming the product and the care; and the item among their booked ones
  const theirs = await backend.call('GET', '/api/v1/engineer/service-orders?status=assigned', undefined, engineerToken)
  const order = theirs.items.find((o) => o.id === orderId)
  expect([order.service_type, order.product_id, order.preferred_slot, order.address]).toEqual(
    ['maintenance', productId, '周六上午', resident.address.text])
  expect(order.description).toMatch(new RegExp(`^保养提醒：滤芯更换（净水器 契约净水器 CT-${n}，序列号 ${serial.toUpperCase()}，`))
  const booked = await backend.call('GET', '/api/v1/engineer/reminders?status=booked', undefined, engineerToken)
  expect(booked.items.map((i) => [i.id, i.order_id])).toEqual([[itemId, orderId]])

  // opened again (from the notice), it shows the booking
  const again = load('pages/care/index')
  again.instance.onLoad({ id: String(itemId) })
  await waitFor(() => again.data.state !== 'loading', { what: 'the reminder again' })
  expect(text(again, '.order-line')).toBe(`服务单 #${orderId}，师傅会联系您确认上门时间`)
  expect(again.querySelector('.book')).toBeUndefined()

  // a neighbour claiming the same serial is told an agent will check it; the product stays with its owner
  mp.openid = `o_neighbour_${backend.unique()}`
  wx.removeStorageSync('linli.token')  // the pages log in again, as the neighbour
  const claim = await formWithModel(model)
  claim.querySelector('.input-serial').dispatchEvent('input', { detail: { value: serial } })
  await tap(claim, '.submit')
  await waitFor(() => claim.data.conflict !== '', { what: 'the refusal' })
  expect(text(claim, '.conflict')).toBe('该序列号的产品已登记在其他用户名下，客服将核实后与您联系')
  expect(mp.called('redirectTo')).toHaveLength(1)
  const conflicts = await backend.call('GET', '/api/v1/admin/product-conflicts', undefined, admin)
  expect(conflicts.items.filter((c) => c.product.id === productId).map((c) => c.status)).toEqual(['open'])
  const still = await backend.call('GET', `/api/v1/me/products/${productId}`, undefined, resident.token)
  expect(still.serial).toBe(serial.toUpperCase())
})

test('retiring an appliance on its page: no more care is scheduled', async () => {
  const { admin } = await backend.estateWithEngineer('孙师傅')
  const n = backend.unique()
  const model = await backend.call('POST', '/api/v1/admin/product-models', {
    code: `CR-${n}`, name: `契约空调 CR-${n}`, category: 'air_conditioner', warranty_months: 12 }, admin)
  await backend.call('POST', '/api/v1/admin/maintenance-plans', { name: '年度清洗', product_model_id: model.id, service_type: 'cleaning',
    first_due_days: 365, interval_months: 12 }, admin)
  mp.openid = `o_resident_${n}`
  const token = await backend.wechatLogin(mp.openid)
  const product = await backend.call('POST', '/api/v1/me/products', { model_id: model.id, serial: `AC${n}` }, token)
  const page = load('pages/product/index')
  page.instance.onLoad({ id: String(product.id) })
  await waitFor(() => page.data.state !== 'loading', { what: 'the product' })
  expect(text(page, '.schedule-name')).toBe('年度清洗')
  await tap(page, '.retire')
  await waitFor(() => !page.data.product.active, { what: 'the retirement' })
  expect(text(page, '.status')).toBe('已停用')
  expect(text(page, '.no-schedules')).toBe('已停用，不再提醒保养')
  const after = await backend.call('GET', `/api/v1/me/products/${product.id}`, undefined, token)
  expect([after.status, after.schedules, after.next_care]).toEqual(['retired', [], null])
})
