/**
 * Engineer mode against the real server: the engineer's customer list (a code minted on the code
 * page, two residents bind, the customers page lists and searches them, the customer page shows
 * the visit), and the engineer completes an order (a resident's request shows on the orders page
 * with the full phone; scheduled and completed there; the resident's order is completed). Also:
 * a new engineer activates on the 工作台 with the invite code and sets the web password; questions
 * are answered and visits announced from their pages. The smart service engine: an appliance
 * registered on the customer's page becomes a due care item (the nightly run, through serve.py's job
 * runner) on 保养待办, snoozed there; a note, a tag and a follow-up on the book show on its
 * timeline; 我的跟进 marks the follow-up done; the health run puts a band on the customer list.
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
  // Changed again with the current password; the login token from above is revoked by the change.
  page.instance.onCurrentPassword({ detail: { value: 'Linli-web-2026' } })
  page.instance.onPassword({ detail: { value: 'Linli-web-2027' } })
  await tap(page, '.save-password')
  await waitFor(() => !page.data.savingPassword && page.data.currentPassword === '', { what: 'the change' })
  const again = await backend.call('POST', '/api/v1/auth/password-login', { username: `W${n}`, password: 'Linli-web-2027' })
  expect(again.token).toBeTruthy()
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

test("the smart service engine: a due care item for my customer, its outcome, the customer's book and its timeline", async () => {
  const { estate, token, admin } = await backend.estateWithEngineer('周建华')
  const code = await backend.call('POST', '/api/v1/engineer/binding-codes', { estate_id: estate.id }, token)
  const customer = await residentScans(code.scene, '吴阿姨', '13600003333')
  // staff: a model and its filter plan, first due ten days after installation
  const n = backend.unique()
  const model = await backend.call('POST', '/api/v1/admin/product-models', {
    code: `CT-${n}`, name: '契约净水器', category: 'water_purifier', warranty_months: 24 }, admin)
  await backend.call('POST', '/api/v1/admin/maintenance-plans', {
    name: '契约滤芯更换', product_model_id: model.id, service_type: 'maintenance', first_due_days: 10, interval_months: 6,
    lead_days: 14, description: '定期更换滤芯' }, admin)
  actAs(token)

  // at the visit: 登记家电 on the customer's page, the model found by its code
  const book = load('pages/work/customer/index')
  book.instance.onLoad({ id: String(customer.id) })
  await waitFor(() => book.data.state === 'ready', { what: 'the customer' })
  expect(text(book, '.health-badge')).toBe('未评分')
  await tap(book, '.tab-products')
  await waitFor(() => book.data.productsState !== 'loading', { what: 'the appliances' })
  expect(book.data.productsState).toBe('empty')
  await tap(book, '.register')
  book.instance.onModelQuery({ detail: { value: `CT-${n}` } })
  await tap(book, '.search-models')
  await waitFor(() => book.data.modelsState !== 'loading', { what: 'the models' })
  expect(book.data.models.map((m) => m.label)).toEqual([`净水器 · 契约净水器（CT-${n}）`])
  book.instance.onSerial({ detail: { value: `sn${n}` } })
  await tap(book, '.submit-product')
  await waitFor(() => book.data.productsState === 'ready', { what: 'the registered appliance' })
  expect(book.data.products.map((p) => [p.model, p.serial])).toEqual([['契约净水器', `SN${n}`]])
  expect(book.data.products[0].nextCare).toMatch(/^契约滤芯更换 · /)

  // the night's run makes the care item; it is on my due list with the customer's full phone
  await backend.runJob('generate-service-reminders')
  const list = load('pages/work/reminders/index')
  list.instance.onLoad({})
  await waitFor(() => list.data.state !== 'loading' && list.data.counts.due, { what: 'the due list' })
  const mine = () => list.data.items.filter((i) => i.serial === `SN${n}`)
  expect(mine().map((i) => [i.plan, i.customer, i.phone, i.canCall, i.when])).toEqual([['契约滤芯更换', '吴阿姨', '13600003333', true, '还有 10 天']])
  expect(Number(list.data.counts.due)).toBeGreaterThanOrEqual(1)
  const dueBefore = Number(list.data.counts.due)

  // 稍后提醒 on the default day (a week ahead)
  const itemId = mine()[0].id
  await tap(list, `.reminder-${itemId} .act`)
  await tap(list, '.choice-snoozed')
  const snoozeDate = list.data.snoozeDate
  await tap(list, '.confirm-outcome')
  await waitFor(() => list.data.acting === 0 && !list.data.sending, { what: 'the outcome' })
  await waitFor(() => Number(list.data.counts.due) === dueBefore - 1, { what: 'the sizes to reload' })
  expect(mine()).toEqual([])
  await tap(list, '.tab-snoozed')
  await waitFor(() => list.data.state !== 'loading', { what: 'the snoozed list' })
  expect(mine().map((i) => i.status)).toEqual(['snoozed'])
  expect(list.data.items.find((i) => i.id === itemId).snoozedUntil).toMatch(/再提醒$/)

  // the book: a note, a tag and a follow-up
  await tap(book, '.tab-notes')
  await waitFor(() => book.data.notesState !== 'loading', { what: 'the notes' })
  book.instance.onNoteText({ detail: { value: '滤芯下周再换，先电话' } })
  await tap(book, '.add-note')
  await waitFor(() => book.data.notes.length === 1, { what: 'the note' })
  await tap(book, '.add-tag')
  await waitFor(() => book.data.suggested.length > 0, { what: 'the suggested tags' })
  book.instance.onTagInput({ detail: { value: '需提前电话' } })
  await tap(book, '.add-tag-button')
  await waitFor(() => book.data.tags.includes('需提前电话'), { what: 'the tag' })
  await tap(book, '.tab-followUps')
  await waitFor(() => book.data.followUpsState !== 'loading', { what: 'the follow-ups' })
  book.instance.onFollowUpText({ detail: { value: '确认滤芯已换' } })
  await tap(book, '.add-follow-up')
  await waitFor(() => book.data.followUps.length === 1, { what: 'the follow-up' })
  expect(book.data.followUps[0].text).toBe('确认滤芯已换')

  // the timeline has them all, newest first
  await tap(book, '.tab-timeline')
  await waitFor(() => book.data.timelineState === 'ready', { what: 'the timeline' })
  const kinds = book.data.timeline.map((e) => e.kind)
  expect(kinds.slice(0, 3)).toEqual(['follow_up', 'note', 'care_outcome'])
  expect(kinds).toEqual(expect.arrayContaining(['care_generated', 'product', 'binding_started', 'visit']))
  const outcome = book.data.timeline.find((e) => e.kind === 'care_outcome')
  expect(outcome.title).toBe('保养暂缓：契约滤芯更换（契约净水器）')
  expect(outcome.detail).toBe(`暂缓至 ${snoozeDate}`)
  expect(book.data.timeline.find((e) => e.kind === 'note').detail).toBe('滤芯下周再换，先电话')

  // 我的跟进 lists it; done there
  const followUps = load('pages/work/follow-ups/index')
  followUps.instance.onLoad({})
  await waitFor(() => followUps.data.state !== 'loading', { what: 'my follow-ups' })
  expect(followUps.data.items.map((f) => [f.customer, f.text])).toEqual([['吴阿姨', '确认滤芯已换']])
  await tap(followUps, '.follow-up .done')
  await waitFor(() => followUps.data.state === 'empty', { what: 'the follow-up to be done' })

  // the night's health run scores the customer; the list shows the badge
  await backend.runJob('recompute-customer-health')
  const customers = load('pages/work/customers/index')
  customers.instance.onLoad()
  await waitFor(() => customers.data.state !== 'loading', { what: 'the customers' })
  expect(customers.data.items.map((c) => [c.name, c.health.band])).toEqual([['吴阿姨', 'green']])
  expect(customers.data.items[0].health.text).toMatch(/^绿色 \d+$/)
  await flush()
})
