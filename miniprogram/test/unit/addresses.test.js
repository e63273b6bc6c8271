const { load, flush, text, tap, apiError } = require('../helpers')

const ESTATE = { id: 12, name: '翠竹苑', city: '深圳市', district: '南山区' }
const address = (id, extra = {}) => ({ id, estate: ESTATE, building: `${id}栋`, unit: '2单元', room: '1201', contact_name: '张阿姨',
  contact_phone: '13800138000', is_default: false, text: `翠竹苑 ${id}栋 2单元 1201`,
  created_at: '2026-12-01T10:00:00+08:00', updated_at: '2026-12-01T10:00:00+08:00', ...extra })

function routes(items) {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 'tok' })
  let current = items
  mp.route('GET', '/api/v1/me/addresses', () => [200, { items: current }])
  return (next) => { current = next }
}

async function open(options = {}) {
  const page = load('pages/addresses/index')
  page.instance.onLoad(options)
  await flush()
  return page
}

test('the book lists the addresses, the default first and marked, phones masked', async () => {
  routes([address(3, { is_default: true }), address(5)])
  const page = await open()
  expect(page.data.state).toBe('ready')
  const items = page.querySelectorAll('.item')
  expect(items).toHaveLength(2)
  expect(text(page, '.item .address-text')).toBe('翠竹苑 3栋 2单元 1201')
  expect(text(page, '.item.default .default-badge')).toBe('默认')
  expect(page.querySelectorAll('.default-badge')).toHaveLength(1)
  expect(text(page, '.item .contact')).toBe('张阿姨 138****8000')
  // the default has no 设为默认 button, the other one has
  expect(page.querySelectorAll('.set-default')).toHaveLength(1)
})

test('a tap and 编辑 open the address page; 新增地址 opens it empty', async () => {
  routes([address(3, { is_default: true })])
  const page = await open()
  await tap(page, '.item')
  await tap(page, '.edit')
  await tap(page, '.add')
  expect(mp.called('navigateTo').map((a) => a.url)).toEqual(
    ['/pages/address/index?id=3', '/pages/address/index?id=3', '/pages/address/index'])
})

test('设为默认 makes another address the default and shows the book as the server has it', async () => {
  const update = routes([address(3, { is_default: true }), address(5)])
  mp.route('PUT', /^\/api\/v1\/me\/addresses\/\d+$/, (req) => {
    update([address(5, { is_default: true }), address(3)])
    return [200, address(5, { is_default: true, got: req.data })]
  })
  const page = await open()
  await tap(page, '.set-default')
  await flush()
  const put = mp.requests.find((r) => r.method === 'PUT')
  expect(put.path).toBe('/api/v1/me/addresses/5')
  expect(put.data).toEqual({ is_default: true })
  expect(text(page, '.item.default .address-text')).toBe('翠竹苑 5栋 2单元 1201')
  expect(mp.called('navigateTo')).toEqual([])  // the button's tap does not open the item
  expect(mp.called('showToast').pop().title).toBe('已设为默认地址')
})

test('删除 asks first; confirmed, the address is deleted and the book reloaded', async () => {
  const update = routes([address(3, { is_default: true }), address(5)])
  mp.route('DELETE', /^\/api\/v1\/me\/addresses\/\d+$/, () => { update([address(3, { is_default: true })]); return [204, null] })
  mp.modalConfirm = false
  const page = await open()
  page.querySelectorAll('.delete')[1].dispatchEvent('tap')
  await flush()
  expect(mp.called('showModal')[0].content).toBe('确定删除“翠竹苑 5栋 2单元 1201”吗？')
  expect(mp.requests.some((r) => r.method === 'DELETE')).toBe(false)
  mp.modalConfirm = true
  page.querySelectorAll('.delete')[1].dispatchEvent('tap')
  await flush(8)
  expect(mp.requests.find((r) => r.method === 'DELETE').path).toBe('/api/v1/me/addresses/5')
  expect(page.querySelectorAll('.item')).toHaveLength(1)
})

test('a refused delete is told in a toast', async () => {
  routes([address(3, { is_default: true })])
  mp.route('DELETE', /^\/api\/v1\/me\/addresses\/\d+$/, 404, apiError('address_not_found', '地址不存在'))
  const page = await open()
  await tap(page, '.delete')
  await flush()
  expect(mp.called('showToast').pop().title).toBe('地址不存在')
})

test('coming back from the address page reloads the book', async () => {
  const update = routes([])
  const page = await open()
  expect(page.data.state).toBe('empty')
  expect(text(page, '.empty >>> .message')).toBe('还没有服务地址')
  expect(page.querySelector('.add')).toBeTruthy()
  update([address(7, { is_default: true })])
  page.instance.onShow()
  await flush()
  expect(page.querySelectorAll('.item')).toHaveLength(1)
})

test('a failed load shows an error with a retry; pull-down refresh reloads', async () => {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 'tok' })
  let answer = ['network']
  mp.route('GET', '/api/v1/me/addresses', () => answer)
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('没有加载到地址')
  expect(page.querySelector('.add')).toBeUndefined()
  answer = [200, { items: [address(3, { is_default: true })] }]
  await tap(page, '.load-error >>> .action')
  expect(page.data.state).toBe('ready')
  answer = [200, { items: [address(3, { is_default: true }), address(4)] }]
  await page.instance.onPullDownRefresh()
  expect(page.querySelectorAll('.item')).toHaveLength(2)
  expect(mp.called('stopPullDownRefresh')).toHaveLength(1)
})
