/**
 * Engineer mode against the real server: the engineer's customer list (a code minted on the code
 * page, two residents bind, the customers page lists and searches them, the customer page shows
 * the visit), and the engineer completes an order (a resident's request shows on the orders page
 * with the full phone; scheduled and completed there; the resident's order is completed). Also:
 * a new engineer activates on the 工作台 with the invite code and sets the web password; questions
 * are answered and visits announced from their pages.
 */
const http = require('http')
const { load, waitFor, text, tap, flush } = require('../helpers')
const backend = require('./backend')

/** The pages act as the engineer: their token where the API module keeps it. */
function actAs(token) {
  wx.setStorageSync('linli.token', token)
}

/** A resident who scans the code (POST /api/v1/bindings with their own wx.login code), named, maybe with a confirmed phone. */
async function residentScans(scene, name, phone) {
  const openid = `o_resident_${backend.unique()}`
  const { code } = await backend.wechat('_fake/codes', { openid })
  const bound = await backend.call('POST', '/api/v1/bindings', { code, scene })
  await backend.call('PUT', '/api/v1/me', { display_name: name }, bound.token)
  if (phone) {
    const { code: phoneCode } = await backend.wechat('_fake/phone-codes', { phone })
    await backend.call('POST', '/api/v1/me/phone', { code: phoneCode }, bound.token)
  }
  return { id: bound.user.id, token: bound.token }
}

/** GET a path of the live server without a token: [status, content type, body length]. */
function fetchPublic(url) {
  const live = new URL(process.env.LINLI_API)
  const target = new URL(url)
  target.protocol = live.protocol
  target.host = live.host
  return new Promise((resolve, reject) => {
    http.get(target, { agent: false }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve([res.statusCode, res.headers['content-type'], Buffer.concat(chunks).length]))
    }).on('error', reject)
  })
}

const names = (page) => page.data.items.map((c) => c.name)

test("the engineer's customer list: mint on the code page, two residents bind, list, search, the visit", async () => {
  const { estate, token } = await backend.estateWithEngineer('刘建业')
  actAs(token)

  // the code page mints a code for the engineer's one estate and shows it with its countdown
  const codePage = load('pages/work/code/index')
  codePage.instance.onLoad({})
  codePage.instance.onShow()
  await waitFor(() => codePage.data.state === 'ready', { what: 'the binding code' })
  const scene = codePage.data.code.scene
  expect(text(codePage, '.estate-name')).toBe(estate.name)
  expect(text(codePage, '.foot')).toMatch(/本码可供 \d+ 户住户扫码绑定$/)
  expect(text(codePage, '.countdown')).toMatch(/^[12]:\d\d:\d\d$/)
  expect(mp.called('setKeepScreenOn')[0].keepScreenOn).toBe(true)
  const [status, type, size] = await fetchPublic(codePage.data.image)
  expect(status).toBe(200) // a plain <image src> shows it: no token needed
  expect(type).toMatch(/^image\/(png|jpeg)$/)
  expect(size).toBeGreaterThan(100)
  codePage.instance.onUnload()

  // two residents scan it
  const chen = await residentScans(scene, '陈阿姨')
  const zhang = await residentScans(scene, '张先生', '13900002222')

  const list = load('pages/work/customers/index')
  list.instance.onLoad()
  await waitFor(() => list.data.state !== 'loading', { what: 'the customers' })
  expect(names(list)).toEqual(['张先生', '陈阿姨'])
  expect(list.data.items.map((c) => [c.estate, c.phone])).toEqual([[estate.name, '139****2222'], [estate.name, '未留手机号']])
  expect(list.data.items.every((c) => c.lastVisit.startsWith('最近上门 '))).toBe(true)
  list.instance.onQuery({ detail: { value: '陈' } })
  list.instance.onSearch()
  await waitFor(() => list.data.state !== 'loading', { what: 'the search by name' })
  expect(names(list)).toEqual(['陈阿姨'])
  list.instance.onQuery({ detail: { value: '2222' } })
  list.instance.onSearch()
  await waitFor(() => list.data.state !== 'loading', { what: 'the search by phone' })
  expect(names(list)).toEqual(['张先生'])
  list.instance.onQuery({ detail: { value: '王' } })
  list.instance.onSearch()
  await waitFor(() => list.data.state !== 'loading', { what: 'a search that finds nobody' })
  expect(text(list, '.no-match >>> .message')).toBe('没有找到匹配的客户')

  // the customer page: the full phone to call, the visit of the scan
  const page = load('pages/work/customer/index')
  page.instance.onLoad({ id: String(zhang.id) })
  await waitFor(() => page.data.state !== 'loading' && page.data.ordersState !== 'loading', { what: 'the customer' })
  expect(text(page, '.name')).toBe('张先生')
  expect(text(page, '.phone')).toBe('13900002222')
  await tap(page, '.call')
  expect(mp.called('makePhoneCall').pop().phoneNumber).toBe('13900002222')
  expect(page.data.visits).toHaveLength(1)
  expect(page.data.visits[0].estate).toBe(estate.name)
  expect(text(page, '.no-orders >>> .message')).toBe('这位客户还没有找您下过服务单')
  expect(chen.id).not.toBe(zhang.id)
})

test('the engineer completes it: the order on the orders page with the full phone, scheduled and completed there', async () => {
  const { estate, engineer, token } = await backend.estateWithEngineer('孙志强')
  const code = await backend.call('POST', '/api/v1/engineer/binding-codes', { estate_id: estate.id }, token)
  const resident = await residentScans(code.scene, '周女士')
  const order = await backend.call('POST', '/api/v1/service-requests', {
    estate_id: estate.id, service_type: 'repair', description: '热水器不出热水', preferred_engineer_id: engineer.id,
    address: '5栋2单元801', contact_name: '周女士', contact_phone: '13711112222' }, resident.token)
  actAs(token)

  // 工作台 counts it as one to schedule
  const home = load('pages/work/index')
  home.instance.onLoad()
  await waitFor(() => home.data.state !== 'loading', { what: 'the workbench' })
  expect(text(home, '.to-schedule .value')).toBe('1')
  expect(text(home, '.ranks .rank-estate')).toBe(estate.name)

  const page = load('pages/work/orders/index')
  page.instance.onLoad({ status: 'assigned' })
  await waitFor(() => page.data.state !== 'loading', { what: 'the orders' })
  expect(page.data.items.map((o) => o.id)).toEqual([order.id])
  expect(text(page, '.order >>> .phone')).toBe('13711112222')
  expect(text(page, '.order >>> .address')).toBe('5栋2单元801')
  expect(text(page, '.order >>> .name')).toBe('周女士')
  await tap(page, '.order >>> .call')
  expect(mp.called('makePhoneCall').pop().phoneNumber).toBe('13711112222')

  // schedule for tomorrow 09:00 (the default), Beijing time
  await tap(page, '.order >>> .schedule')
  const { date } = page.querySelector('.order').instance.data
  await tap(page, '.order >>> .confirm-schedule')
  await waitFor(() => page.data.state === 'empty', { what: 'the order to leave 待预约' })

  await tap(page, '.tab-scheduled')
  await waitFor(() => page.data.state !== 'loading', { what: 'the orders to complete' })
  expect(page.data.items.map((o) => [o.id, o.status])).toEqual([[order.id, 'scheduled']])
  await tap(page, '.order >>> .complete')
  await waitFor(() => page.data.state === 'empty', { what: 'the order to leave 待完成' })

  const seen = await backend.call('GET', `/api/v1/service-orders/${order.id}`, undefined, resident.token)
  expect(seen.status).toBe('completed')
  expect(new Date(seen.scheduled_for).getTime()).toBe(new Date(`${date}T09:00:00+08:00`).getTime())

  // and the customer page lists it as completed
  const customer = load('pages/work/customer/index')
  customer.instance.onLoad({ id: String(resident.id) })
  await waitFor(() => customer.data.ordersState !== 'loading', { what: "the customer's orders" })
  expect(customer.data.orders.map((o) => [o.id, o.status])).toEqual([[order.id, 'completed']])
})

test('a new engineer activates on the 工作台 with the invite code and sets the web password', async () => {
  const admin = await backend.adminToken()
  const n = backend.unique()
  const estate = await backend.call('POST', '/api/v1/admin/estates', {
    name: `激活小区${n}`, province: '广东省', city: '深圳市', district: '南山区', households: 300 }, admin)
  const created = await backend.call('POST', '/api/v1/admin/engineers', {
    name: '吴师傅', phone: '13800138001', employee_no: `W${n}`, estate_ids: [estate.id] }, admin)
  mp.openid = `o_new_engineer_${n}`

  const page = load('pages/work/index')
  page.instance.onLoad()
  await waitFor(() => page.data.state !== 'loading', { what: 'the workbench' })
  expect(page.data.state).toBe('outsider')
  page.instance.onInviteCode({ detail: { value: 'WRONG-CODE' } })
  await tap(page, '.claim')
  await waitFor(() => page.data.claimError !== '', { what: 'the refusal' })
  expect(text(page, '.claim-error')).toBe('邀请码无效或已使用')
  page.instance.onInviteCode({ detail: { value: created.invite_code } })
  await tap(page, '.claim')
  await waitFor(() => page.data.state === 'ready', { what: 'the activated workbench' })
  expect(text(page, '.welcome')).toContain(`用工号 W${n} 登录电脑端工作台`)
  expect(text(page, '.name')).toBe('吴师傅工程师')

  page.instance.onPassword({ detail: { value: 'Linli-web-2026' } })
  await tap(page, '.save-password')
  await waitFor(() => page.data.passwordSet, { what: 'the password' })
  const login = await backend.call('POST', '/api/v1/auth/password-login', { username: `W${n}`, password: 'Linli-web-2026' })
  expect(login.token).toBeTruthy()
})

test('questions of my estate answered from the questions page; a visit day announced from the visit page', async () => {
  const { estate, token } = await backend.estateWithEngineer('钱工')
  const code = await backend.call('POST', '/api/v1/engineer/binding-codes', { estate_id: estate.id }, token)
  const asker = await residentScans(code.scene, '冯大爷')
  const post = await backend.call('POST', `/api/v1/estates/${estate.id}/posts`, { kind: 'question', text: '暖气片不热怎么办？' }, asker.token)
  actAs(token)

  const page = load('pages/work/questions/index')
  page.instance.onLoad()
  await waitFor(() => page.data.state !== 'loading', { what: 'the questions' })
  expect(page.data.items.map((q) => [q.id, q.estate, q.author])).toEqual([[post.id, estate.name, '冯大爷']])
  page.instance.onDraft({ currentTarget: { dataset: { id: post.id } }, detail: { value: '先排气，再看阀门是否全开' } })
  await tap(page, '.send')
  await waitFor(() => page.data.items[0].answered !== '', { what: 'the answer' })
  expect(text(page, '.answered')).toBe('已发布：先排气，再看阀门是否全开')
  const detail = await backend.call('GET', `/api/v1/posts/${post.id}`, undefined, asker.token)
  expect(detail.answers.map((a) => [a.text, a.author.name])).toEqual([['先排气，再看阀门是否全开', '钱工']])
  await page.instance.onPullDownRefresh()
  expect(page.data.state).toBe('empty')

  const visit = load('pages/work/visit/index')
  visit.instance.onLoad()
  await waitFor(() => visit.data.state !== 'loading' && visit.data.upcomingState !== 'loading', { what: 'the visit form' })
  expect(visit.data.upcomingState).toBe('empty')
  await tap(visit, '.submit')
  await waitFor(() => visit.data.result !== null, { what: 'the announcement' })
  expect(text(visit, '.result-detail')).toBe(`${estate.name} · 4 个可预约时段`)
  expect(text(visit, '.result-notified')).toMatch(/^已通知 1 户住户/)
  await waitFor(() => visit.data.upcomingState === 'ready', { what: 'the upcoming visits' })
  expect(visit.data.upcoming[0].slots.map((s) => s.text)).toEqual(['09:00-10:00', '10:00-11:00', '14:00-15:00', '15:00-16:00'])
  const inbox = await backend.call('GET', '/api/v1/me/notifications', undefined, asker.token)
  expect(inbox.items.some((m) => m.title.includes('钱工师傅'))).toBe(true)
  await flush()
})
