const { load, flush, text, tap, apiError } = require('../helpers')
const A = require('./activation-fixtures')

const TEMPLATES = { visit: 'tmpl_visit_notice', activity: 'tmpl_activity_notice', order: 'tmpl_order_status',
  redemption: 'tmpl_redemption_status', maintenance: 'tmpl_maintenance_due', offer: 'tmpl_offer_notice' }
/** The purposes the server lists, in its order (core/notifications/services.py PURPOSE_LABELS). */
const PURPOSES = A.PURPOSES

function routes(purposes = PURPOSES) {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 'tok' })
  mp.route('GET', '/api/v1/me/offer-mutes', 200, { items: A.MUTES })
  let current = purposes
  mp.route('GET', '/api/v1/me/subscriptions', () => [200, {
    quotas: Object.fromEntries(current.filter((p) => p.remaining).map((p) => [p.template_id, p.remaining])), purposes: current }])
  return (next) => { current = next }
}

async function open() {
  const page = load('pages/subscriptions/index')
  page.instance.onLoad({})
  await flush()
  return page
}

test('each purpose shows its name, what it is for and how many messages can still come; the rule is explained', async () => {
  routes()
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.rule')).toContain('每点一次“允许”，我们可以给您发送一条')
  expect(page.querySelectorAll('.purpose .name').map((n) => n.dom.textContent)).toEqual(
    ['上门服务安排', '服务单进度', '积分兑换结果', '保养提醒', '小区优惠与活动', '活动报名提醒'])
  expect(text(page, '.purpose-offer .description')).toBe('您所在的小区有新的优惠券、社区活动或伙伴服务时通知您（可在小区优惠中按类别关闭）')
  expect(text(page, '.purpose-activity .remaining')).toBe('还可接收 1 条')
  expect(text(page, '.purpose-order .description')).toBe('服务单派单、预约上门时间、完成或取消时通知您')
  expect(text(page, '.purpose-order .remaining')).toBe('还可接收 2 条')
  expect(text(page, '.purpose-order .enable')).toBe('再开启')
  expect(text(page, '.purpose-visit .remaining')).toBe('未开启，收不到微信通知')
  expect(text(page, '.purpose-visit .enable')).toBe('开启')
  expect(mp.called('requestSubscribeMessage')).toEqual([])
})

test('再开启 opens WeChat\'s dialog for that purpose only, tells the server, and shows the new quota', async () => {
  const update = routes()
  mp.route('GET', '/api/v1/subscriptions/templates', 200, { templates: TEMPLATES })
  mp.route('POST', '/api/v1/me/subscriptions', (req) => {
    update(PURPOSES.map((p) => (p.purpose === 'order' ? { ...p, remaining: 3 } : p)))
    return [200, { quotas: { tmpl_order_status: 3 }, got: req.data }]
  })
  mp.subscribeAnswers = { tmpl_order_status: 'accept' }
  const page = await open()
  await tap(page, '.purpose-order .enable')
  await flush()
  expect(mp.called('requestSubscribeMessage').map((a) => a.tmplIds)).toEqual([['tmpl_order_status']])
  expect(mp.requests.find((r) => r.method === 'POST' && r.path === '/api/v1/me/subscriptions').data).toEqual({ template_ids: ['tmpl_order_status'] })
  expect(text(page, '.purpose-order .remaining')).toBe('还可接收 3 条')
  expect(mp.called('showToast').pop().title).toBe('已开启，可再收到 1 条')
  expect(page.data.asking).toBe('')
})

test('declining in the dialog changes nothing and says so', async () => {
  routes()
  mp.route('GET', '/api/v1/subscriptions/templates', 200, { templates: TEMPLATES })
  mp.subscribeAnswers = { tmpl_visit_notice: 'reject' }
  const page = await open()
  await tap(page, '.purpose-visit .enable')
  await flush()
  expect(mp.called('requestSubscribeMessage')[0].tmplIds).toEqual(['tmpl_visit_notice'])
  expect(mp.requests.some((r) => r.method === 'POST' && r.path === '/api/v1/me/subscriptions')).toBe(false)
  expect(mp.requests.filter((r) => r.path === '/api/v1/me/subscriptions')).toHaveLength(1)
  expect(mp.called('showToast').pop().title).toBe('未开启')
})

test('the templates failing to load is told, and the buttons work again', async () => {
  routes()
  mp.route('GET', '/api/v1/subscriptions/templates', () => ['network'])
  const page = await open()
  await tap(page, '.purpose-order .enable')
  await flush()
  expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
  expect(page.data.asking).toBe('')
})

test('a failed load shows an error with a retry; no purposes is the empty state', async () => {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 'tok' })
  mp.route('GET', '/api/v1/me/offer-mutes', 200, { items: [] })
  let answer = [500, apiError('internal_error', '服务器内部错误，请稍后重试')]
  mp.route('GET', '/api/v1/me/subscriptions', () => answer)
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('没有加载到通知设置')
  answer = [200, { quotas: {}, purposes: [] }]
  await tap(page, '.load-error >>> .action')
  expect(page.data.state).toBe('empty')
  expect(text(page, '.empty >>> .message')).toBe('暂无可开启的通知')
})

test('pull-down refresh reloads the quotas', async () => {
  const update = routes()
  const page = await open()
  update(PURPOSES.map((p) => ({ ...p, remaining: 1 })))
  await page.instance.onPullDownRefresh()
  await flush()
  expect(text(page, '.purpose-visit .remaining')).toBe('还可接收 1 条')
  expect(mp.called('stopPullDownRefresh')).toHaveLength(1)
})

test('不接收这些推荐: each offer category with a switch, on = muted', async () => {
  routes()
  const page = await open()
  expect(text(page, '.section-title')).toBe('不接收这些推荐')
  expect(page.querySelectorAll('.mute .name').map((n) => n.dom.textContent)).toEqual(['优惠券', '社区活动', '积分好礼', '伙伴服务'])
  expect(text(page, '.mute-partner .description')).toBe('生态伙伴的服务与公告')
  expect(page.data.mutes.map((m) => m.muted)).toEqual([false, false, false, true])
  expect(text(page, '.mutes-hint')).toBe('打开后不再通知您该类新的小区优惠，在「小区」页的「优惠活动」里仍可看到。')
})

test('a switch PUTs exactly the categories muted now; a refusal puts the switch back', async () => {
  routes()
  let answer = (req) => [200, { items: A.MUTES.map((m) => ({ ...m, muted: req.data.muted.includes(m.category) })) }]
  mp.route('PUT', '/api/v1/me/offer-mutes', (req) => answer(req))
  const page = await open()
  page.querySelector('.mute-coupon .mute-switch').dispatchEvent('change', { detail: { value: true } })
  await flush()
  const puts = () => mp.requests.filter((r) => r.method === 'PUT')
  expect(puts()[0].data).toEqual({ muted: ['coupon', 'partner'] })
  expect(page.data.mutes.map((m) => m.muted)).toEqual([true, false, false, true])
  page.querySelector('.mute-partner .mute-switch').dispatchEvent('change', { detail: { value: false } })
  await flush()
  expect(puts()[1].data).toEqual({ muted: ['coupon'] })
  answer = () => ['network']
  page.querySelector('.mute-activity .mute-switch').dispatchEvent('change', { detail: { value: true } })
  await flush()
  expect(puts()[2].data).toEqual({ muted: ['coupon', 'activity'] })
  expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
  expect(page.data.mutes.map((m) => m.muted)).toEqual([true, false, false, false])
  expect(page.data.savingMutes).toBe(false)
})
