const { load, flush, text, tap, apiError } = require('../helpers')

/** GET /api/v1/service-orders/{id} (the real shape). */
const ORDER = { id: 41, source: 'app', estate_id: 12, resident_id: 5, engineer_id: 3, preferred_engineer_id: 3, service_type: 'repair',
  service_type_label: '维修', description: '空调不制冷', preferred_slot: '2026-12-06 09:30', status: 'scheduled', status_label: '已预约',
  requested_at: '2026-12-04T02:00:00+00:00', assigned_at: '2026-12-04T02:00:00+00:00', scheduled_for: '2026-12-06T01:30:00+00:00',
  completed_at: null, cancelled_at: null, cancel_reason: null, rating: null, complained: false, address: '翠竹苑 3栋 2单元 1201',
  contact_name: '陈小明', contact_phone: '13812345678', customer_name: '陈小明', photos: ['/api/v1/uploads/p1.jpg', '/api/v1/uploads/p2.jpg'],
  engineer: { id: 3, name: '王建国', photo_url: '/api/v1/uploads/wang.jpg' }, review: null }
const COMPLETED = { ...ORDER, status: 'completed', status_label: '已完成', completed_at: '2026-12-06T03:00:00+00:00' }
const REVIEW = { id: 7, order_id: 41, engineer_id: 3, rating: 4, text: '准时，干净', photos: ['/api/v1/uploads/r1.jpg'], created_at: '2026-12-06T04:00:00+00:00' }
const POST = { id: 90, estate_id: 12, kind: 'review', text: '准时，干净', photos: ['/api/v1/uploads/r1.jpg'], status: 'published',
  status_label: '已发布', author: { id: 5, name: '陈小明', badge: null, badge_label: null }, answers_count: 0, comments_count: 0,
  likes_count: 0, accepted_answer_id: null, review_id: 7, created_at: '2026-12-06T05:00:00+00:00' }

function routeOrder(order = ORDER) {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 't' })
  mp.route('GET', '/api/v1/service-orders/41', 200, order)
}

async function open(options = { id: '41' }) {
  const page = load('pages/order/index')
  page.instance.onLoad(options)
  await flush(10)
  return page
}

const posted = (path) => mp.requests.filter((r) => r.method === 'POST' && r.path === path)

test('an open order: its timeline, engineer, where and whom, photos, the reminder, cancel and complain', async () => {
  routeOrder()
  const page = await open({ id: '41', created: '1' })
  expect(page.data.state).toBe('ready')
  expect(text(page, '.created-title')).toBe('申请已提交')
  expect(text(page, '.created .muted')).toBe('王建国师傅会尽快联系您确定上门时间')
  expect(text(page, '.type')).toBe('维修服务')
  expect(text(page, '.status')).toBe('已预约')
  const steps = page.querySelector('.timeline').instance.data.steps
  expect(steps.map((s) => [s.label, s.time, s.detail, s.done, s.current])).toEqual([
    ['提交申请', '12月4日 10:00', '', true, false],
    ['已派单', '12月4日 10:00', '王建国师傅为您服务', true, false],
    ['已预约上门', '', '上门时间 12月6日 09:30', true, true],
    ['服务完成', '', '', false, false],
  ])
  expect(text(page, '.timeline >>> .current .label')).toBe('已预约上门')
  expect(text(page, '.engineer >>> .name')).toBe('王建国师傅')
  expect(text(page, '.address')).toBe('翠竹苑 3栋 2单元 1201')
  expect(text(page, '.contact')).toBe('陈小明 13812345678')
  expect(text(page, '.slot')).toBe('2026-12-06 09:30')
  expect(text(page, '.description')).toBe('空调不制冷')
  expect(page.data.photos).toEqual(['http://127.0.0.1:5000/api/v1/uploads/p1.jpg', 'http://127.0.0.1:5000/api/v1/uploads/p2.jpg'])
  page.querySelectorAll('.order-photo')[1].dispatchEvent('tap')
  await flush()
  expect(mp.called('previewImage')[0].current).toBe('http://127.0.0.1:5000/api/v1/uploads/p2.jpg')
  expect(page.querySelector('.subscribe')).toBeTruthy()
  expect(page.querySelector('.cancel')).toBeTruthy()
  expect(page.querySelector('.complain')).toBeTruthy()
  expect(page.querySelector('.review-form')).toBeUndefined()
  expect(mp.requests.some((r) => r.path.endsWith('/review/share'))).toBe(false)
  await tap(page, '.contact')
  expect(mp.called('makePhoneCall')[0].phoneNumber).toBe('13812345678')
  await tap(page, '.go-orders')
  expect(mp.called('navigateTo')[0].url).toBe('/pages/orders/index')
})

test('the reminder asks for the order notices only, from the tap', async () => {
  routeOrder()
  mp.route('GET', '/api/v1/subscriptions/templates', 200, { templates: { visit: 'T_VISIT', order: 'T_ORDER' } })
  mp.route('POST', '/api/v1/me/subscriptions', 200, { quotas: { T_ORDER: 1 } })
  mp.subscribeAnswers = { T_ORDER: 'accept' }
  const page = await open()
  expect(mp.called('requestSubscribeMessage')).toEqual([])
  await tap(page, '.subscribe')
  await flush()
  expect(mp.called('requestSubscribeMessage')[0].tmplIds).toEqual(['T_ORDER'])
  expect(posted('/api/v1/me/subscriptions')[0].data).toEqual({ template_ids: ['T_ORDER'] })
  expect(mp.called('showToast').pop().title).toBe('已开启服务进度提醒')
  expect(text(page, '.subscribe')).toBe('已开启，再开启一次')
})

test('cancel: a reason from the sheet, a confirmation, and the order shows cancelled', async () => {
  routeOrder()
  mp.route('POST', '/api/v1/service-orders/41/cancel', (req) => [200, { ...ORDER, status: 'cancelled', status_label: '已取消',
    cancelled_at: '2026-12-04T03:00:00+00:00', cancel_reason: req.data.reason }])
  const page = await open()
  // the sheet dismissed, then the confirmation declined: nothing is sent
  await tap(page, '.cancel')
  mp.actionSheetIndex = 1
  mp.modalConfirm = false
  await tap(page, '.cancel')
  expect(posted('/api/v1/service-orders/41/cancel')).toHaveLength(0)
  mp.modalConfirm = true
  await tap(page, '.cancel')
  await flush()
  expect(mp.called('showActionSheet')[2].itemList[1]).toBe('问题已自行解决')
  expect(posted('/api/v1/service-orders/41/cancel').map((r) => r.data)).toEqual([{ reason: '问题已自行解决' }])
  expect(text(page, '.status')).toBe('已取消')
  const steps = page.querySelector('.timeline').instance.data.steps
  expect(steps.map((s) => s.label)).toEqual(['提交申请', '已派单', '已预约上门', '已取消'])
  expect(steps[3]).toEqual(expect.objectContaining({ time: '12月4日 11:00', detail: '原因：问题已自行解决', current: true }))
  expect(page.querySelector('.cancel')).toBeUndefined()
  expect(page.querySelector('.subscribe')).toBeUndefined()
  expect(page.querySelector('.complain')).toBeUndefined()
})

test('a cancel that lost a race says so and shows the order as it is now', async () => {
  routeOrder()
  mp.route('POST', '/api/v1/service-orders/41/cancel', 409, apiError('order_state_changed', '服务单当前状态为“已完成”，不能执行此操作', { status: 'completed' }))
  const page = await open()
  routeOrder(COMPLETED)
  mp.route('GET', '/api/v1/service-orders/41/review/share', 404, apiError('review_not_found', '评价不存在'))
  mp.actionSheetIndex = 0
  await tap(page, '.cancel')
  await flush(10)
  expect(mp.called('showToast').pop().title).toBe('服务单当前状态为“已完成”，不能执行此操作')
  expect(text(page, '.status')).toBe('已完成')
  expect(page.querySelector('.review-form')).toBeTruthy()
})

test('a completed order is reviewed once with stars, text and photos; the review shows and can be shared once', async () => {
  routeOrder(COMPLETED)
  mp.route('POST', '/api/v1/service-orders/41/review', 201, { review: REVIEW, points: 10, points_refused: null })
  mp.route('POST', '/api/v1/service-orders/41/review/share', 201, POST)
  const page = await open()
  expect(text(page, '.status')).toBe('已完成')
  expect(page.querySelector('.timeline').instance.data.steps.map((s) => s.done)).toEqual([true, true, true, true])
  expect(page.querySelector('.cancel')).toBeUndefined()
  expect(page.querySelector('.subscribe')).toBeUndefined()
  await tap(page, '.submit-review')
  expect(posted('/api/v1/service-orders/41/review')).toHaveLength(0)  // no stars yet
  page.querySelectorAll('.rating >>> .star')[3].dispatchEvent('tap')
  page.instance.onReviewText({ detail: { value: ' 准时，干净 ' } })
  page.querySelector('.review-photos').dispatchEvent('change', { detail: { ids: ['r1.jpg'] } })
  await flush()
  await tap(page, '.submit-review')
  expect(posted('/api/v1/service-orders/41/review').map((r) => r.data)).toEqual([{ rating: 4, text: '准时，干净', photos: ['r1.jpg'] }])
  expect(page.querySelector('.review-form')).toBeUndefined()
  expect(page.querySelector('.review-stars').instance.data.value).toBe(4)
  expect(text(page, '.review-text')).toBe('准时，干净')
  expect(page.data.review.photos).toEqual(['http://127.0.0.1:5000/api/v1/uploads/r1.jpg'])
  await tap(page, '.review-photo')
  expect(mp.called('previewImage')[0]).toEqual(expect.objectContaining({ urls: ['http://127.0.0.1:5000/api/v1/uploads/r1.jpg'] }))
  expect(text(page, '.review-note')).toBe('感谢评价，获得 10 积分')
  await tap(page, '.share')
  expect(posted('/api/v1/service-orders/41/review/share')).toHaveLength(1)
  expect(text(page, '.shared')).toBe('已分享到小区动态')
  expect(page.querySelector('.share')).toBeUndefined()
  expect(mp.called('showToast').pop().title).toBe('已分享到小区动态')
})

test('a review without points says why; a review already written elsewhere reloads the order', async () => {
  routeOrder(COMPLETED)
  mp.route('POST', '/api/v1/service-orders/41/review', 201, { review: { ...REVIEW, text: '', photos: [] }, points: 0,
    points_refused: '今日评价积分已达上限' })
  const page = await open()
  page.instance.onRate({ detail: { value: 5 } })
  await tap(page, '.submit-review')
  expect(text(page, '.review-note')).toBe('今日评价积分已达上限')
  expect(page.querySelector('.share')).toBeUndefined()  // nothing to share: no text, no photos

  routeOrder(COMPLETED)
  mp.route('POST', '/api/v1/service-orders/41/review', 409, apiError('already_reviewed', '该服务单已经评价过了'))
  const again = await open()
  routeOrder({ ...COMPLETED, rating: 4, review: REVIEW })
  mp.route('GET', '/api/v1/service-orders/41/review/share', 200, { shared: false, post: null })
  again.instance.onRate({ detail: { value: 5 } })
  await tap(again, '.submit-review')
  await flush(10)
  expect(mp.called('showToast').pop().title).toBe('该服务单已经评价过了')
  expect(text(again, '.review-text')).toBe('准时，干净')
  expect(again.querySelector('.share')).toBeTruthy()
})

test('a reviewed order shows the review and whether it was shared (held for a moderator: said so)', async () => {
  routeOrder({ ...COMPLETED, rating: 4, review: REVIEW })
  mp.route('GET', '/api/v1/service-orders/41/review/share', 200, { shared: true, post: { ...POST, status: 'held', status_label: '已提交，审核通过后显示' } })
  const page = await open()
  expect(page.querySelector('.review-form')).toBeUndefined()
  expect(text(page, '.review-text')).toBe('准时，干净')
  expect(text(page, '.shared')).toBe('已分享到小区动态（已提交，审核通过后显示）')
  expect(page.querySelector('.share')).toBeUndefined()
})

test('someone else\'s review (the engineer looking): no share button', async () => {
  routeOrder({ ...COMPLETED, rating: 4, review: REVIEW })
  mp.route('GET', '/api/v1/service-orders/41/review/share', 404, apiError('review_not_found', '评价不存在'))
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.review-text')).toBe('准时，干净')
  expect(page.querySelector('.share')).toBeUndefined()
  expect(page.querySelector('.shared')).toBeUndefined()
})

test('a complaint: written, sent once, and the page says it was made', async () => {
  routeOrder(COMPLETED)
  mp.route('POST', '/api/v1/service-orders/41/complaints', 201, { id: 3, order_id: 41, estate_id: 12, engineer_id: 3, text: '迟到一小时',
    status: 'open', resolution: null, resolved_at: null, created_at: '2026-12-06T05:00:00+00:00' })
  const page = await open()
  await tap(page, '.complain')
  await tap(page, '.submit-complaint')
  expect(text(page, '.complaint-error')).toBe('请描述您遇到的问题')
  expect(posted('/api/v1/service-orders/41/complaints')).toHaveLength(0)
  page.instance.onComplaintText({ detail: { value: '迟到一小时' } })
  await tap(page, '.submit-complaint')
  expect(posted('/api/v1/service-orders/41/complaints').map((r) => r.data)).toEqual([{ text: '迟到一小时' }])
  expect(text(page, '.complained')).toBe('已投诉：客服会尽快联系您处理。')
  expect(page.querySelector('.complain')).toBeUndefined()
  expect(page.querySelector('.complaint-form')).toBeUndefined()
})

test('a complaint made before (another device): the refusal is told and the page shows it', async () => {
  routeOrder()
  mp.route('POST', '/api/v1/service-orders/41/complaints', 409, apiError('already_complained', '该服务单已经投诉过了，请等待处理'))
  const page = await open()
  await tap(page, '.complain')
  page.instance.onComplaintText({ detail: { value: '态度差' } })
  await tap(page, '.submit-complaint')
  expect(mp.called('showToast').pop().title).toBe('该服务单已经投诉过了，请等待处理')
  expect(text(page, '.complained')).toBe('已投诉：客服会尽快联系您处理。')
})

test('an order already complained about, or not assigned yet, offers no complaint', async () => {
  routeOrder({ ...ORDER, complained: true })
  const page = await open()
  expect(page.querySelector('.complain')).toBeUndefined()
  expect(text(page, '.complained')).toBe('已投诉：客服会尽快联系您处理。')
  routeOrder({ ...ORDER, status: 'requested', status_label: '待派单', engineer_id: null, engineer: null, assigned_at: null, scheduled_for: null })
  const waiting = await open({ id: '41', created: '1' })
  expect(waiting.querySelector('.complain')).toBeUndefined()
  expect(waiting.querySelector('.engineer')).toBeUndefined()
  expect(text(waiting, '.created .muted')).toBe('我们正在为您安排工程师')
  expect(waiting.querySelector('.timeline').instance.data.steps.map((s) => s.done)).toEqual([true, false, false, false])
})

test('an order I may not see: the server\'s message, and a retry', async () => {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 't' })
  mp.route('GET', '/api/v1/service-orders/41', 404, apiError('order_not_found', '服务单不存在'))
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('服务单不存在')
  routeOrder()
  page.querySelector('.load-error').querySelector('.action').dispatchEvent('tap')
  await flush(10)
  expect(page.data.state).toBe('ready')
  page.instance.onPullDownRefresh()
  await flush(10)
  expect(mp.called('stopPullDownRefresh')).toHaveLength(1)
})
