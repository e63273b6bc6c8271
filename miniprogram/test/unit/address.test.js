const { load, flush, text, tap, apiError } = require('../helpers')

const CUIZHU = { id: 12, name: '翠竹苑', city: '深圳市', district: '南山区' }
const YANGGUANG = { id: 14, name: '阳光花园', city: '深圳市', district: '福田区' }
const residency = (estate) => ({ estate, source: 'self', joined_at: '2026-11-01T10:00:00+08:00' })
const ADDRESS = { id: 3, estate: CUIZHU, building: '3栋', unit: '2单元', room: '1201', contact_name: '张阿姨', contact_phone: '13800138000',
  is_default: true, text: '翠竹苑 3栋 2单元 1201', created_at: '2026-12-01T10:00:00+08:00', updated_at: '2026-12-01T10:00:00+08:00' }
const FULL_ESTATE = (e) => ({ ...e, code: null, province: '广东省', address: '', lat: null, lng: null, households: 800, status: 'active' })

const ME = { id: 5, display_name: '小邻', avatar_url: null, phone: null, phone_confirmed: false, username: null,
  roles: ['resident'], created_at: '2026-12-01T10:00:00+08:00' }

function routes({ mine = [CUIZHU, YANGGUANG], book = [ADDRESS], me = ME } = {}) {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 'tok' })
  mp.route('GET', '/api/v1/me', 200, me)
  mp.route('GET', '/api/v1/me/estates', 200, { items: mine.map(residency) })
  mp.route('GET', '/api/v1/me/addresses', 200, { items: book })
}

async function open(options = {}) {
  const page = load('pages/address/index')
  page.instance.onLoad(options)
  await flush()
  return page
}

/** Type into a field as the input would. */
function type(page, field, value) {
  page.querySelector(`.input-${field}`).dispatchEvent('input', { detail: { value } })
}

test('a new address: pick one of my estates, fill the fields, save with an Idempotency-Key, go back', async () => {
  routes()
  mp.route('POST', '/api/v1/me/addresses', (req) => [201, { ...ADDRESS, id: 9, got: req.data }])
  const page = await open()
  expect(mp.called('setNavigationBarTitle')[0].title).toBe('新增地址')
  expect(mp.requests.some((r) => r.path === '/api/v1/me/addresses')).toBe(false)  // nothing to edit
  expect(text(page, '.estate-name')).toBe('选择我住的小区')
  expect(page.querySelector('.delete')).toBeUndefined()
  page.querySelector('.estate-picker').dispatchEvent('change', { detail: { value: '1' } })
  await flush()
  expect(text(page, '.estate-name')).toBe('阳光花园')
  type(page, 'building', ' 5栋 ')
  type(page, 'unit', '1')
  type(page, 'room', '302')
  type(page, 'contact_name', '李先生')
  type(page, 'contact_phone', '139 1234 5678')
  page.querySelector('.default-switch').dispatchEvent('change', { detail: { value: true } })
  await tap(page, '.save')
  const post = mp.requests.find((r) => r.method === 'POST' && r.path === '/api/v1/me/addresses')
  expect(post.data).toEqual({ estate_id: 14, building: '5栋', unit: '1', room: '302', contact_name: '李先生',
    contact_phone: '13912345678', is_default: true })
  expect(post.header['Idempotency-Key']).toMatch(/^[a-z0-9]+-[a-z0-9]+$/)
  expect(mp.called('showToast').pop().title).toBe('地址已保存')
  expect(mp.called('navigateBack')).toHaveLength(1)
})

test('a lost answer retried with the same form sends the same Idempotency-Key; a changed form a new one', async () => {
  routes({ mine: [CUIZHU] })
  let calls = 0
  mp.route('POST', '/api/v1/me/addresses', () => (calls++ < 2 ? ['network'] : [201, ADDRESS]))
  const page = await open()
  expect(text(page, '.estate-name')).toBe('翠竹苑')  // my only estate is preselected
  type(page, 'building', '3')
  type(page, 'contact_name', '张阿姨')
  type(page, 'contact_phone', '13800138000')
  await tap(page, '.save')
  expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
  await tap(page, '.save')
  type(page, 'room', '1201')
  await tap(page, '.save')
  const keys = mp.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/me/addresses').map((r) => r.header['Idempotency-Key'])
  expect(keys).toHaveLength(3)
  expect(keys[1]).toBe(keys[0])
  expect(keys[2]).not.toBe(keys[0])
  expect(mp.called('navigateBack')).toHaveLength(1)
})

test('the light checks stop an incomplete form before any call', async () => {
  routes({ mine: [] })
  const page = await open()
  expect(text(page, '.estate-name')).toBe('搜索您的小区')
  type(page, 'contact_phone', '12345')
  await tap(page, '.save')
  expect(text(page, '.error-estate_id')).toBe('请选择小区')
  expect(text(page, '.error-building')).toBe('请填写楼栋')
  expect(text(page, '.error-contact_name')).toBe('请填写联系人')
  expect(text(page, '.error-contact_phone')).toBe('请填写 11 位手机号码')
  expect(mp.requests.some((r) => r.method === 'POST' && r.path === '/api/v1/me/addresses')).toBe(false)
  // typing in a field clears its error
  type(page, 'building', '3栋')
  await flush()
  expect(page.querySelector('.error-building')).toBeUndefined()
  expect(text(page, '.error-contact_name')).toBe('请填写联系人')
})

test('the server\'s 422 field errors show under their fields', async () => {
  routes({ mine: [CUIZHU] })
  mp.route('POST', '/api/v1/me/addresses', 422, apiError('validation_error', '地址信息有误',
    { fields: { building: ['楼栋最多 32 个字'], contact_name: ['联系人不能包含换行或控制字符'] } }))
  const page = await open()
  type(page, 'building', '很长的楼栋')
  type(page, 'contact_name', '张')
  type(page, 'contact_phone', '13800138000')
  await tap(page, '.save')
  expect(text(page, '.error-building')).toBe('楼栋最多 32 个字')
  expect(text(page, '.error-contact_name')).toBe('联系人不能包含换行或控制字符')
  expect(mp.called('navigateBack')).toEqual([])
  expect(page.data.saving).toBe(false)
})

test('a refusal without fields (the 20-address limit) is told in a toast', async () => {
  routes({ mine: [CUIZHU] })
  mp.route('POST', '/api/v1/me/addresses', 409, apiError('address_limit', '最多保存 20 个地址，请先删除不用的地址'))
  const page = await open()
  type(page, 'building', '3')
  type(page, 'contact_name', '张')
  type(page, 'contact_phone', '13800138000')
  await tap(page, '.save')
  expect(mp.called('showToast').pop().title).toBe('最多保存 20 个地址，请先删除不用的地址')
})

test('an estate not in my list is found by search and picked', async () => {
  routes({ mine: [CUIZHU] })
  mp.route('GET', '/api/v1/estates', (req) => [200, { items: req.query.get('q') === '阳光' ? [FULL_ESTATE(YANGGUANG)] : [], next_cursor: null }])
  mp.route('POST', '/api/v1/me/addresses', 201, ADDRESS)
  const page = await open()
  page.querySelector('.estate-query').dispatchEvent('input', { detail: { value: '月亮' } })
  await tap(page, '.search-button')
  expect(text(page, '.no-results')).toBe('没有找到这个小区，换个名字试试')
  page.querySelector('.estate-query').dispatchEvent('input', { detail: { value: ' 阳光 ' } })
  page.querySelector('.estate-query').dispatchEvent('confirm', { detail: { value: ' 阳光 ' } })
  await flush()
  expect(mp.requests.filter((r) => r.path === '/api/v1/estates').map((r) => r.query.get('q'))).toEqual(['月亮', '阳光'])
  expect(text(page, '.result .result-name')).toBe('阳光花园')
  await tap(page, '.result')
  expect(text(page, '.estate-name')).toBe('阳光花园')
  expect(page.querySelector('.results')).toBeUndefined()
  type(page, 'building', '1栋')
  type(page, 'contact_name', '王')
  type(page, 'contact_phone', '13800138000')
  await tap(page, '.save')
  expect(mp.requests.find((r) => r.method === 'POST' && r.path === '/api/v1/me/addresses').data.estate_id).toBe(14)
})

test('editing: the address is filled in, saved with PUT; the default cannot be switched off', async () => {
  routes()
  mp.route('PUT', '/api/v1/me/addresses/3', (req) => [200, { ...ADDRESS, ...req.data }])
  const page = await open({ id: '3' })
  expect(mp.called('setNavigationBarTitle')[0].title).toBe('编辑地址')
  expect(page.data.state).toBe('ready')
  expect(text(page, '.estate-name')).toBe('翠竹苑')
  expect(page.data.estateIndex).toBe(0)
  expect(page.data.building).toBe('3栋')
  expect(page.data.contact_phone).toBe('13800138000')
  expect(page.data.isDefault).toBe(true)
  expect(page.data.wasDefault).toBe(true)  // the switch's disabled (builtin attributes are not in the test DOM)
  expect(text(page, '.default-row')).toContain('默认地址不能取消')
  type(page, 'room', '1202')
  await tap(page, '.save')
  const put = mp.requests.find((r) => r.method === 'PUT')
  expect(put.data).toEqual({ estate_id: 12, building: '3栋', unit: '2单元', room: '1202', contact_name: '张阿姨',
    contact_phone: '13800138000', is_default: true })
  expect(mp.called('navigateBack')).toHaveLength(1)
})

test('editing: 删除地址 asks, deletes and goes back', async () => {
  routes({ book: [{ ...ADDRESS, is_default: false }] })
  mp.route('DELETE', '/api/v1/me/addresses/3', 204, null)
  mp.modalConfirm = false
  const page = await open({ id: '3' })
  expect(text(page, '.default-row')).not.toContain('默认地址不能取消')
  await tap(page, '.delete')
  expect(mp.requests.some((r) => r.method === 'DELETE')).toBe(false)
  mp.modalConfirm = true
  await tap(page, '.delete')
  expect(mp.requests.find((r) => r.method === 'DELETE').path).toBe('/api/v1/me/addresses/3')
  expect(mp.called('navigateBack')).toHaveLength(1)
})

test('an address that is no longer in the book says so and offers to go back', async () => {
  routes({ book: [] })
  const page = await open({ id: '3' })
  expect(page.data.state).toBe('missing')
  expect(text(page, '.missing >>> .message')).toBe('地址不存在')
  await tap(page, '.missing >>> .action')
  expect(mp.called('navigateBack')).toHaveLength(1)
})

test('a failed load shows an error with a retry', async () => {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 'tok' })
  let fail = true
  mp.route('GET', '/api/v1/me', 200, ME)
  mp.route('GET', '/api/v1/me/estates', () => (fail ? ['network'] : [200, { items: [residency(CUIZHU)] }]))
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('没有加载到地址信息')
  fail = false
  await tap(page, '.load-error >>> .action')
  expect(page.data.state).toBe('ready')
  expect(text(page, '.estate-name')).toBe('翠竹苑')
})

test('a new address starts with my confirmed phone as the contact phone (from the 我的 tab, else asked for)', async () => {
  routes({ mine: [], me: { ...ME, phone: '13600002222', phone_confirmed: true } })
  const page = load('pages/address/index')
  getApp().globalData.me = { ...ME, phone: '13700001111', phone_confirmed: true }
  page.instance.onLoad({})
  await flush()
  expect(page.data.contact_phone).toBe('13700001111')
  expect(page.data.contact_name).toBe('')
  expect(mp.requests.some((r) => r.path === '/api/v1/me')).toBe(false)
  const fresh = await open()
  expect(fresh.data.contact_phone).toBe('13600002222')
  expect(mp.requests.filter((r) => r.path === '/api/v1/me')).toHaveLength(1)
})

test('an unconfirmed phone is not offered, and editing does not ask for me', async () => {
  routes({ me: { ...ME, phone: '13600002222', phone_confirmed: false } })
  const page = await open()
  expect(page.data.contact_phone).toBe('')
  await open({ id: '3' })
  expect(mp.requests.filter((r) => r.path === '/api/v1/me')).toHaveLength(1)
})

test('a new address from the service request starts in the request\'s estate', async () => {
  routes()
  const page = await open({ estate_id: '14' })
  expect(page.data.estate).toEqual(YANGGUANG)
  expect(page.data.estateIndex).toBe(1)
  // an estate I do not live in is not preselected
  const other = await open({ estate_id: '99' })
  expect(other.data.estate).toBe(null)
})
