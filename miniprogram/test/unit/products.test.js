const { load, flush, text, tap, apiError } = require('../helpers')
const F = require('./care-fixtures')

beforeEach(() => {
  wx.setStorageSync('linli.token', 'tok')
  jest.spyOn(Date, 'now').mockReturnValue(Date.parse('2026-12-08T02:00:00Z'))
})
afterEach(() => jest.restoreAllMocks())

const PAGE1 = {
  items: [
    F.product(9, { model: F.brief(F.KFR35), serial: 'KFR35GW0001', install_date: '2019-06-01', purchase_date: null,
      warranty_end: '2020-06-01', in_warranty: false, warranty_days_left: 0,
      next_care: F.nextCare('2026-11-30', -8, { plan_name: '年度清洗', service_type: 'cleaning', service_type_label: '清洗' }) }),
    F.product(7, { model: { ...F.brief(F.RO600), image_url: '/api/v1/uploads/ro600.jpg' } }),
    F.product(6, { model: F.brief(F.RO800), serial: 'RO800X', install_date: null, purchase_date: null, warranty_end: null,
      in_warranty: false, warranty_days_left: 0, next_care: null }),
  ],
  next_cursor: 'p2',
}
const PAGE2 = { items: [F.product(2, { next_care: F.nextCare('2027-05-01', 144) })], next_cursor: null }

function routeList(pages = [PAGE1, PAGE2]) {
  mp.route('GET', '/api/v1/me/products', (req) => [200, req.query.get('cursor') === 'p2' ? pages[1] : pages[0]])
}

async function open() {
  const page = load('pages/products/index')
  page.instance.onLoad()
  await flush()
  return page
}

test('my appliances with model, serial, install date, warranty and the next due care', async () => {
  routeList()
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(page.querySelectorAll('.product')).toHaveLength(3)
  expect(page.querySelectorAll('.name').map((n) => n.dom.textContent.trim())).toEqual(['挂壁式空调 KFR-35GW', '反渗透净水器 RO-600G', '厨下净水器'])
  expect(page.querySelectorAll('.model').map((n) => n.dom.textContent.trim())).toEqual(['空调 · KFR-35GW', '净水器 · RO-600G', '净水器 · RO-800'])
  expect(page.querySelectorAll('.serial').map((n) => n.dom.textContent.trim())).toEqual(['KFR35GW0001', 'RO600G20257A', 'RO800X'])
  expect(page.querySelectorAll('.installed').map((n) => n.dom.textContent.trim())).toEqual(['2019年6月1日', '2025年3月1日', '未填写'])
  // 保修中 / 已过保, and no badge without any date to count from
  expect(page.querySelectorAll('.warranty').map((n) => n.dom.textContent.trim())).toEqual(['已过保', '保修中'])
  expect(page.querySelectorAll('.warranty-end').map((n) => n.dom.textContent.trim())).toEqual(
    ['至 2020年6月1日', '至 2027年2月20日', '未填写购买或安装日期'])
  expect(page.querySelectorAll('.care-text').map((n) => n.dom.textContent.trim())).toEqual(
    ['下次保养：年度清洗 · 11月30日 周一', '下次保养：复合滤芯更换 · 12月20日 周日'])
  expect(page.querySelectorAll('.care-due').map((n) => n.dom.textContent.trim())).toEqual(['已逾期 8 天', '还有 12 天'])
  expect(page.data.items.map((i) => i.care && i.care.badge)).toEqual(['danger', 'warn', null])
  expect(page.data.items[1].image).toBe('http://127.0.0.1:5000/api/v1/uploads/ro600.jpg')
  expect(text(page, '.initial')).toBe('空')
  expect(mp.requests[0].query.get('status')).toBe(null)  // the server's default: the ones in use
})

test('the next page comes at the bottom; a tap opens the product, 添加家电 the form, 保养提醒 the care list', async () => {
  routeList()
  const page = await open()
  page.instance.onReachBottom()
  await flush()
  expect(page.data.items.map((i) => i.id)).toEqual([9, 7, 6, 2])
  expect(page.data.items[3].care.badge).toBe('muted')
  expect(mp.requests.filter((r) => r.path === '/api/v1/me/products').map((r) => r.query.get('cursor'))).toEqual([null, 'p2'])
  page.querySelectorAll('.product')[1].dispatchEvent('tap')
  await flush()
  await tap(page, '.add')
  await tap(page, '.care-entry')
  expect(mp.called('navigateTo').map((a) => a.url)).toEqual(['/pages/product/index?id=7', '/pages/product/index', '/pages/care/index'])
})

test('no appliance yet: the empty state invites adding one', async () => {
  routeList([{ items: [], next_cursor: null }])
  const page = await open()
  expect(page.data.state).toBe('empty')
  expect(text(page, '.empty >>> .message')).toBe('还没有登记家电')
  expect(text(page, '.empty >>> .hint')).toContain('一键预约管家上门')
  await tap(page, '.empty >>> .action')
  expect(mp.called('navigateTo')[0].url).toBe('/pages/product/index')
})

test('a failed load shows the error state; 重试 loads again; coming back reloads the list', async () => {
  mp.route('GET', '/api/v1/me/products', 500, apiError('internal_error', '服务器内部错误，请稍后重试'))
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('家电加载失败')
  routeList()
  await tap(page, '.load-error >>> .action')
  expect(page.data.state).toBe('ready')
  routeList([{ items: [F.product(7)], next_cursor: null }])
  page.instance.onShow()
  await flush()
  expect(page.data.items.map((i) => i.id)).toEqual([7])
})

test('开启保养提醒 asks for the maintenance notices from the tap and tells the server', async () => {
  routeList()
  mp.route('GET', '/api/v1/subscriptions/templates', 200, { templates: { visit: 'T_VISIT', activity: 'T_ACT', order: 'T_ORDER',
    redemption: 'T_REDEEM', maintenance: 'T_CARE' } })
  mp.route('POST', '/api/v1/me/subscriptions', 200, { quotas: { T_CARE: 1 } })
  mp.subscribeAnswers = { T_CARE: 'accept' }
  const page = await open()
  expect(mp.called('requestSubscribeMessage')).toEqual([])
  expect(text(page, '.subscribe')).toBe('开启保养提醒')
  await tap(page, '.subscribe')
  expect(mp.called('requestSubscribeMessage')[0].tmplIds).toEqual(['T_CARE'])
  expect(mp.requests.find((r) => r.method === 'POST' && r.path === '/api/v1/me/subscriptions').data).toEqual({ template_ids: ['T_CARE'] })
  expect(mp.called('showToast').pop().title).toBe('已开启保养提醒')
  expect(text(page, '.subscribe')).toBe('已开启，再开启一次')
})
