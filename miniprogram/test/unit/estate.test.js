const { load, flush, text, tap, apiError } = require('../helpers')

const ESTATE = { id: 12, code: null, name: '翠竹苑', province: '广东省', city: '深圳市', district: '南山区', address: '科技园路1号',
  lat: null, lng: null, households: 1000, status: 'active' }
const OTHER = { id: 15, code: null, name: '阳光花园', province: '广东省', city: '深圳市', district: '福田区', address: '',
  lat: null, lng: null, households: 0, status: 'active' }
const MINE = { items: [
  { estate: { id: 12, name: '翠竹苑', city: '深圳市', district: '南山区' }, source: 'self', joined_at: '2026-12-01T08:00:00+00:00' },
  { estate: { id: 15, name: '阳光花园', city: '深圳市', district: '福田区' }, source: 'binding', joined_at: '2026-12-02T08:00:00+00:00' },
] }
const RESIDENT = { id: 21, name: '邻居', badge: null, badge_label: null }
const ENGINEER = { id: 30, name: '王建国', badge: 'engineer', badge_label: '工程师' }

function post(id, extra = {}) {
  return { id, estate_id: 12, kind: 'question', text: `问题${id}`, photos: [], status: 'published', status_label: '已发布',
    author: RESIDENT, answers_count: 0, comments_count: 0, likes_count: 0, liked: false, accepted_answer_id: null,
    review_id: null, created_at: '2026-12-04T02:00:00+00:00', accepted_answer: null, ...extra }
}

const QUESTION = post(3, { text: '电梯维保一般多久一次？', photos: ['/api/v1/uploads/a.jpg', '/api/v1/uploads/b.jpg',
  '/api/v1/uploads/c.jpg', '/api/v1/uploads/d.jpg'], answers_count: 2, comments_count: 1, likes_count: 4,
accepted_answer_id: 8, accepted_answer: { id: 8, text: '按规定每 15 天维保一次', author: ENGINEER } })
const ANNOUNCEMENT = post(2, { kind: 'announcement', text: '周六停水', author: { id: 1, name: '客服小李', badge: 'agent', badge_label: '客服' } })
const HELD = post(4, { text: '需要的加微信聊', status: 'held', status_label: '已提交，审核通过后显示' })

const RANKING = { estate_id: 12, window_days: 90, items: [
  { rank: 1, engineer: { id: 3, name: '王建国', photo_url: '/api/v1/uploads/w.jpg' }, score: 82.41, first_service_at: '2026-01-02T02:00:00+00:00',
    components: { bayes_rating: 4.7, avg_rating: 4.8, ratings_count: 50, likes: 10, complaints: 0, completed: 120, recent_completed: 12, quality: 0.9, volume: 0.5 } },
  { rank: 2, engineer: { id: 4, name: '李师傅', photo_url: null }, score: 36.75, first_service_at: null,
    components: { bayes_rating: 4.5, avg_rating: null, ratings_count: 0, likes: 0, complaints: 0, completed: 0, recent_completed: 0, quality: 0.6125, volume: 0 } },
] }

const future = (hours) => new Date(Date.now() + hours * 3600e3).toISOString().replace('Z', '+00:00')
function visits({ mine = false } = {}) {
  return { items: [{ id: 5, day: '2026-12-06', note: '带好保修卡', engineer: { id: 3, name: '王建国' }, slots: [
    { id: 51, starts_at: future(-1), ends_at: future(0), available: true, mine: false, order_id: null },
    { id: 52, starts_at: future(20), ends_at: future(21), available: !mine, mine, order_id: mine ? 77 : null },
    { id: 53, starts_at: future(21), ends_at: future(22), available: false, mine: false, order_id: null },
    { id: 54, starts_at: future(22), ends_at: future(23), available: true, mine: false, order_id: null },
  ] }] }
}

const routeLogin = () => mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 'tok', user: { id: 21 } })
beforeEach(routeLogin)

/** Start over within a test (a fresh page, no token). */
function restart() {
  mp.reset()
  routeLogin()
}

function routeEstate({ feed = { items: [QUESTION, ANNOUNCEMENT], next_cursor: null } } = {}) {
  mp.route('GET', '/api/v1/me/estates', 200, MINE)
  mp.route('GET', '/api/v1/estates/12', 200, ESTATE)
  mp.route('GET', '/api/v1/estates/15', 200, OTHER)
  mp.route('GET', '/api/v1/estates/12/feed', 200, feed)
}

async function open(options = {}) {
  const page = load('pages/estate/index')
  page.instance.onLoad(options)
  await flush(10)
  return page
}

/** The calls to the API, login aside. */
const paths = () => mp.requests.map((r) => `${r.method} ${r.path}`).filter((p) => !p.endsWith('/auth/wechat-login'))
const posted = () => mp.requests.filter((r) => r.method === 'POST' && r.path !== '/api/v1/auth/wechat-login')

test('the first of my estates: its header, and the feed with authors, badges, photos and accepted answers', async () => {
  routeEstate()
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.estate-name')).toBe('翠竹苑')
  expect(text(page, '.estate-meta')).toBe('深圳市 南山区 · 1000 户')
  expect(mp.called('setNavigationBarTitle')[0].title).toBe('翠竹苑')
  expect(getApp().globalData.estateId).toBe(12)
  expect(mp.requests.find((r) => r.path === '/api/v1/estates/12/feed').query.get('limit')).toBe('20')
  const posts = page.querySelectorAll('.post')
  expect(posts).toHaveLength(2)
  expect(text(page, '.post-3 >>> .text')).toBe('提问电梯维保一般多久一次？')
  expect(text(page, '.post-3 >>> .author >>> .name')).toBe('邻居')
  expect(page.querySelector('.post-3 >>> .author >>> .role')).toBeUndefined()
  expect(text(page, '.post-3 >>> .accepted-mark')).toBe('已采纳')
  expect(text(page, '.post-3 >>> .accepted-author >>> .name')).toBe('王建国')
  expect(text(page, '.post-3 >>> .accepted-author >>> .role')).toBe('工程师')
  expect(text(page, '.post-3 >>> .accepted-text')).toBe('按规定每 15 天维保一次')
  expect(text(page, '.post-3 >>> .answers')).toBe('2 个回答')
  expect(text(page, '.post-3 >>> .like')).toBe('♡4')
  // three photos in the feed, the fourth as +1; the preview gets all of them
  const photos = page.querySelector('.post-3').instance.data
  expect(photos.photos).toEqual(['a', 'b', 'c'].map((n) => `http://127.0.0.1:5000/api/v1/uploads/${n}.jpg`))
  expect(text(page, '.post-3 >>> .more')).toBe('+1')
  page.querySelectorAll('.post-3 >>> .photo')[1].dispatchEvent('tap')
  await flush()
  expect(mp.called('previewImage')[0]).toEqual(expect.objectContaining({ current: 'http://127.0.0.1:5000/api/v1/uploads/b.jpg' }))
  expect(mp.called('previewImage')[0].urls).toHaveLength(4)
  expect(mp.called('navigateTo')).toEqual([]) // previewing does not open the post
  expect(text(page, '.post-2 >>> .author >>> .role')).toBe('客服')
  expect(text(page, '.post-2 >>> .text')).toBe('小区公告周六停水')
  expect(page.querySelector('.post-2 >>> .answers')).toBeUndefined()
  await tap(page, '.post-3 >>> .body')
  expect(mp.called('navigateTo').pop().url).toBe('/pages/post/index?id=3')
  await tap(page, '.ask')
  expect(mp.called('navigateTo').pop().url).toBe(`/pages/ask/index?estate_id=12&name=${encodeURIComponent('翠竹苑')}`)
})

test('my own held question says it is under review', async () => {
  routeEstate({ feed: { items: [HELD], next_cursor: null } })
  const page = await open()
  expect(text(page, '.post-4 >>> .held')).toBe('审核中：已提交，审核通过后显示，目前只有您能看到')
})

test('the estate a notice names (?id=&tab=visits) opens on its visits', async () => {
  mp.route('GET', '/api/v1/me/estates', 200, MINE)
  mp.route('GET', '/api/v1/estates/15', 200, OTHER)
  mp.route('GET', '/api/v1/estates/15/visits', 200, { items: [] })
  const page = await open({ id: '15', tab: 'visits' })
  expect(paths().sort()).toEqual(['GET /api/v1/estates/15', 'GET /api/v1/estates/15/visits', 'GET /api/v1/me/estates'])
  expect(text(page, '.estate-name')).toBe('阳光花园')
  expect(text(page, '.estate-meta')).toBe('深圳市 福田区')
  expect(text(page, '.tab.active')).toBe('上门预告')
  expect(text(page, '.visits-state >>> .message')).toBe('近期没有上门预告')
  expect(getApp().globalData.estateId).toBe(15)
})

test('no estate yet: an empty state that leads to joining one', async () => {
  mp.route('GET', '/api/v1/me/estates', 200, { items: [] })
  const page = await open()
  expect(page.data.state).toBe('empty')
  expect(text(page, '.page-state >>> .message')).toBe('您还没有加入小区')
  await tap(page, '.page-state >>> .action')
  expect(mp.called('navigateTo')[0].url).toBe('/pages/estates/index')
})

test('a failed load says why and retries', async () => {
  mp.route('GET', '/api/v1/me/estates', 'network')
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.page-state >>> .message')).toBe('网络连接失败，请检查网络后重试')
  routeEstate()
  await tap(page, '.page-state >>> .action')
  await flush(10)
  expect(page.data.state).toBe('ready')
  expect(page.querySelectorAll('.post')).toHaveLength(2)
})

test('the feed: empty, failed with retry, paginated by cursor, refreshed by pulling down', async () => {
  routeEstate({ feed: { items: [], next_cursor: null } })
  let page = await open()
  expect(text(page, '.feed-state >>> .message')).toBe('还没有动态')

  restart()
  routeEstate()
  mp.route('GET', '/api/v1/estates/12/feed', 403, apiError('not_estate_member', '只有该小区的住户、服务该小区的工程师和客服可以参与'))
  page = await open()
  expect(page.data.feedState).toBe('error')
  expect(text(page, '.feed-state >>> .message')).toBe('只有该小区的住户、服务该小区的工程师和客服可以参与')

  restart()
  routeEstate()
  mp.route('GET', '/api/v1/estates/12/feed', (req) => [200, req.query.get('cursor') === 'c2'
    ? { items: [post(1)], next_cursor: null }
    : { items: [post(4), post(3)], next_cursor: 'c2' }])
  page = await open()
  expect(text(page, '.list-end')).toBe('上拉加载更多')
  page.instance.onReachBottom()
  await flush(10)
  expect(page.data.feedItems.map((p) => p.id)).toEqual([4, 3, 1])
  expect(text(page, '.list-end')).toBe('没有更多了')
  const before = mp.requests.length
  page.instance.onReachBottom()
  await flush()
  expect(mp.requests.length).toBe(before) // nothing more to load
  page.instance.onPullDownRefresh()
  await flush(10)
  expect(mp.requests.at(-1).query.get('cursor')).toBeNull()
  expect(page.data.feedItems.map((p) => p.id)).toEqual([4, 3])
  expect(mp.called('stopPullDownRefresh')).toHaveLength(1)
})

test('a like toggles: POST likes, DELETE takes it back', async () => {
  routeEstate()
  mp.route('POST', '/api/v1/posts/3/like', 200, { post_id: 3, likes_count: 5, liked: true, created: true })
  mp.route('DELETE', '/api/v1/posts/3/like', 200, { post_id: 3, likes_count: 4, liked: false, removed: true })
  const page = await open()
  await tap(page, '.post-3 >>> .like')
  expect(text(page, '.post-3 >>> .like')).toBe('♥5')
  expect(page.querySelector('.post-3 >>> .like.on')).toBeTruthy()
  await tap(page, '.post-3 >>> .like')
  expect(text(page, '.post-3 >>> .like')).toBe('♡4')
  expect(paths().filter((p) => p.includes('/like'))).toEqual(['POST /api/v1/posts/3/like', 'DELETE /api/v1/posts/3/like'])
  expect(mp.called('navigateTo')).toEqual([]) // the like does not open the post
  mp.route('POST', '/api/v1/posts/3/like', 404, apiError('post_not_found', '帖子不存在'))
  await tap(page, '.post-3 >>> .like')
  expect(mp.called('showToast').pop().title).toBe('帖子不存在')
})

test('the engineers tab ranks the estate’s engineers; a tap opens one', async () => {
  routeEstate()
  mp.route('GET', '/api/v1/estates/12/engineers', 200, RANKING)
  const page = await open()
  await tap(page, '.tab-engineers')
  await flush()
  const rows = page.querySelectorAll('.engineer')
  expect(rows).toHaveLength(2)
  expect(text(page, '.engineer >>> .place')).toBe('1')
  expect(text(page, '.engineer >>> .name')).toBe('王建国')
  expect(text(page, '.engineer >>> .score')).toBe('综合 82.4')
  expect(text(page, '.engineer >>> .figures')).toBe('评分 4.8（50 条）近90天完成 12 单获赞 10')
  expect(rows[0].instance.data.photo).toBe('http://127.0.0.1:5000/api/v1/uploads/w.jpg')
  expect(rows[1].instance.data.initial).toBe('李')
  expect(text(page, '.ranking-note')).toContain('近 90 天')
  rows[1].querySelector('.rank-row').dispatchEvent('tap')
  await flush()
  expect(mp.called('navigateTo').pop().url).toBe('/pages/engineer/index?id=4')
  // the tab is loaded once; coming back does not ask again
  await tap(page, '.tab-feed')
  await tap(page, '.tab-engineers')
  expect(paths().filter((p) => p.endsWith('/engineers'))).toHaveLength(1)
})

test('the engineers tab: none, or a failure with retry', async () => {
  routeEstate()
  mp.route('GET', '/api/v1/estates/12/engineers', 500, 'oops')
  const page = await open()
  await tap(page, '.tab-engineers')
  expect(text(page, '.engineers-state >>> .message')).toBe('服务器开小差了，请稍后再试')
  mp.route('GET', '/api/v1/estates/12/engineers', 200, { estate_id: 12, window_days: 90, items: [] })
  await tap(page, '.engineers-state >>> .action')
  expect(text(page, '.engineers-state >>> .message')).toBe('该小区暂无服务工程师')
})

test('visits: free slots book with a service type, taken and past ones cannot be booked', async () => {
  routeEstate()
  let booked = false
  mp.route('GET', '/api/v1/estates/12/visits', () => [200, visits({ mine: booked })])
  mp.route('POST', '/api/v1/visit-slots/52/book', (req) => { booked = true; return [201, { id: 77, status: 'scheduled', got: req.data }] })
  const page = await open()
  await tap(page, '.tab-visits')
  await flush()
  expect(text(page, '.visit-day')).toBe('12月6日 周日')
  expect(text(page, '.visit-engineer')).toBe('王建国师傅 ›')
  expect(text(page, '.visit-note')).toBe('带好保修卡')
  expect(text(page, '.slot-51 .slot-state')).toBe('已过')
  expect(page.querySelector('.slot-51 .book')).toBeUndefined()
  expect(text(page, '.slot-53 .slot-state')).toBe('已约满')
  expect(page.querySelector('.slot-53 .book')).toBeUndefined()
  expect(page.querySelector('.slot-52 .book')).toBeTruthy()
  // a cancelled sheet books nothing
  await tap(page, '.slot-52 .book')
  expect(posted()).toEqual([])
  mp.actionSheetIndex = 1
  await tap(page, '.slot-52 .book')
  await flush()
  expect(mp.called('showActionSheet').pop().itemList).toEqual(['维修', '保养', '安装', '清洗', '检测', '其他'])
  expect(posted()[0].data).toEqual({ service_type: 'maintenance' })
  expect(mp.called('showToast').pop().title).toBe('预约成功')
  expect(text(page, '.slot-52 .mine')).toBe('我的预约 ›')
  await tap(page, '.slot-52 .mine')
  expect(mp.called('navigateTo').pop().url).toBe('/pages/order/index?id=77')
  await tap(page, '.visit-engineer')
  expect(mp.called('navigateTo').pop().url).toBe('/pages/engineer/index?id=3')
})

test('visits: a slot taken meanwhile is told and the list refreshed', async () => {
  routeEstate()
  let refreshed = 0
  mp.route('GET', '/api/v1/estates/12/visits', () => { refreshed += 1; return [200, visits()] })
  mp.route('POST', '/api/v1/visit-slots/54/book', 409, apiError('slot_taken', '该时段已被预约，请选择其他时段'))
  mp.actionSheetIndex = 0
  const page = await open({ tab: 'visits' })
  await tap(page, '.slot-54 .book')
  await flush()
  expect(mp.called('showToast').pop().title).toBe('该时段已被预约，请选择其他时段')
  expect(refreshed).toBe(2)
  expect(page.data.busySlot).toBe(0)
})

test('visits: my booking can be cancelled after a confirmation, which frees the slot', async () => {
  routeEstate()
  let mine = true
  mp.route('GET', '/api/v1/estates/12/visits', () => [200, visits({ mine })])
  mp.route('POST', '/api/v1/service-orders/77/cancel', (req) => { mine = false; return [200, { id: 77, status: 'cancelled', got: req.data }] })
  const page = await open({ tab: 'visits' })
  mp.modalConfirm = false
  await tap(page, '.slot-52 .cancel')
  expect(posted()).toEqual([])
  mp.modalConfirm = true
  await tap(page, '.slot-52 .cancel')
  await flush()
  expect(mp.called('showModal').pop().title).toBe('取消预约')
  expect(posted()[0].data).toEqual({ reason: '住户取消预约' })
  expect(mp.called('showToast').pop().title).toBe('已取消预约')
  expect(page.querySelector('.slot-52 .book')).toBeTruthy()
})

test('visits: a failure with retry', async () => {
  routeEstate()
  mp.route('GET', '/api/v1/estates/12/visits', 'network')
  const page = await open({ tab: 'visits' })
  expect(text(page, '.visits-state >>> .message')).toBe('网络连接失败，请检查网络后重试')
  mp.route('GET', '/api/v1/estates/12/visits', 200, visits())
  await tap(page, '.visits-state >>> .action')
  expect(page.querySelectorAll('.slot')).toHaveLength(4)
})

test('切换 lists my estates; choosing one shows it, the last item leads to joining another', async () => {
  routeEstate()
  mp.route('GET', '/api/v1/estates/15/feed', 200, { items: [post(9, { estate_id: 15 })], next_cursor: null })
  const page = await open()
  mp.actionSheetIndex = 1
  await tap(page, '.switch')
  await flush(10)
  expect(mp.called('showActionSheet')[0].itemList).toEqual(['翠竹苑', '阳光花园', '加入其他小区'])
  expect(text(page, '.estate-name')).toBe('阳光花园')
  expect(getApp().globalData.estateId).toBe(15)
  expect(page.data.feedItems.map((p) => p.id)).toEqual([9])
  mp.actionSheetIndex = 2
  await tap(page, '.switch')
  expect(mp.called('navigateTo').pop().url).toBe('/pages/estates/index')
})

test('back on the tab: another estate chosen elsewhere reloads, a new question refreshes the feed', async () => {
  routeEstate()
  const page = await open()
  page.instance.onShow()
  await flush()
  const count = paths().length
  expect(count).toBe(3) // nothing changed: nothing asked
  getApp().globalData.feedStale = true
  page.instance.onShow()
  await flush(10)
  expect(paths().slice(count)).toEqual(['GET /api/v1/estates/12/feed'])
  expect(getApp().globalData.feedStale).toBe(false)
  mp.route('GET', '/api/v1/estates/15/feed', 200, { items: [], next_cursor: null })
  getApp().globalData.estateId = 15
  page.instance.onShow()
  await flush(10)
  expect(text(page, '.estate-name')).toBe('阳光花园')
})

describe('优惠活动: the estate\'s offers', () => {
  const A = require('./activation-fixtures')
  A.fixClock()

  function routeOffers(items = A.OFFERS, next = null) {
    routeEstate()
    mp.route('GET', '/api/v1/estates/12/offers', (req) => [200, req.query.get('cursor')
      ? { items: [A.offer(2, 'coupon', A.template(2, { name: '安装立减券', face: '立减30' }))], next_cursor: null }
      : { items, next_cursor: next }])
  }
  const offerCalls = () => mp.requests.filter((r) => r.path === '/api/v1/estates/12/offers')

  test('a notice\'s ?tab=offers opens on them: a coupon to claim, an activity to join, a reward, a partner\'s service', async () => {
    routeOffers()
    const page = await open({ id: '12', tab: 'offers' })
    expect(text(page, '.tab.active')).toBe('优惠活动')
    expect(paths()).not.toContain('GET /api/v1/estates/12/feed')
    expect(offerCalls()[0].query.get('limit')).toBe('20')
    expect(page.querySelectorAll('.offer .offer-kind').map((k) => k.dom.textContent)).toEqual(['伙伴公告', '伙伴服务', '积分好礼', '社区活动', '优惠券'])
    // the coupon: its face and terms, 领取
    expect(text(page, '.offer-3 .face')).toBe('满100减20')
    expect(text(page, '.offer-3 .offer-title')).toBe('清洗立减券')
    expect(text(page, '.offer-3 .offer-terms')).toBe('订单满 100 元可用 · 限维修、清洗服务使用 · 领取后 30 天内有效 · 每人限领 1 张')
    expect(text(page, '.offer-3 .claim')).toBe('领取')
    expect(text(page, '.offer-3 .offer-until')).toBe('12月12日 14:48 结束')
    // the activity: time, place, seats left, 报名
    expect(text(page, '.offer-4 .time')).toBe('时间：12月10日 14:00–16:00')
    expect(text(page, '.offer-4 .place')).toBe('地点：会所二楼')
    expect(text(page, '.offer-4 .seats')).toBe('剩 18 个名额')
    expect(text(page, '.offer-4 .signup')).toBe('报名')
    // the reward: its cost, to the rewards
    expect(text(page, '.offer-5 .offer-title')).toBe('电动牙刷')
    expect(text(page, '.offer-5 .cost')).toBe('800 积分')
    expect(text(page, '.offer-5 .redeem')).toBe('去兑换 ›')
    // the partner's service and announcement: title, partner, price, 了解详情
    expect(text(page, '.offer-6 .offer-title')).toBe('上门深度保洁')
    expect(text(page, '.offer-6 .partner')).toBe('洁净家政')
    expect(text(page, '.offer-6 .price')).toBe('¥199起')
    expect(text(page, '.offer-6 .details')).toBe('了解详情 ›')
    expect(text(page, '.offer-7 .price')).toBe('')
    for (const id of [5, 6, 7, 4]) await tap(page, `.offer-${id}`)
    await tap(page, '.offer-3') // a coupon not yet claimed opens nothing
    expect(mp.called('navigateTo').map((a) => a.url)).toEqual(['/pages/rewards/index', '/pages/listing/index?id=1',
      '/pages/listing/index?id=3', '/pages/activity/index?id=1&estate_id=12'])
  })

  test('领取 claims in this estate with an Idempotency-Key; the offer then says 已领取 and leads to my coupons', async () => {
    routeOffers()
    mp.route('POST', '/api/v1/coupon-templates/1/claim', 201, A.coupon(1))
    mp.route('GET', '/api/v1/offers/3', 200, A.offer(3, 'coupon', A.template(1, { held: 1, can_claim: false, remaining: 99 })))
    const page = await open({ tab: 'offers' })
    await tap(page, '.offer-3 .claim')
    await flush()
    const claim = mp.requests.find((r) => r.path === '/api/v1/coupon-templates/1/claim')
    expect(claim.data).toEqual({ estate_id: 12 })
    expect(claim.header['Idempotency-Key']).toBeTruthy()
    expect(mp.called('showToast').pop().title).toBe('领取成功，已放入我的优惠券')
    expect(mp.requests.find((r) => r.path === '/api/v1/offers/3').query.get('estate_id')).toBe('12')
    expect(page.querySelector('.offer-3 .claim')).toBeUndefined()
    expect(text(page, '.offer-3 .claim-state')).toBe('已领取')
    expect(mp.called('navigateTo')).toEqual([]) // the button's tap is its own
    await tap(page, '.offer-3')
    expect(mp.called('navigateTo').pop().url).toBe('/pages/coupons/index')
  })

  test('a claim with no answer keeps its key for the retry; a refusal is told and the offer shown as it is now', async () => {
    routeOffers()
    let answer = ['network']
    mp.route('POST', '/api/v1/coupon-templates/1/claim', () => answer)
    mp.route('GET', '/api/v1/offers/3', 200, A.offer(3, 'coupon', A.template(1, { can_claim: false, remaining: 0 })))
    const page = await open({ tab: 'offers' })
    await tap(page, '.offer-3 .claim')
    expect(mp.requests.some((r) => r.path === '/api/v1/offers/3')).toBe(false)
    answer = [409, apiError('coupon_out_of_stock', '优惠券已被领完')]
    await tap(page, '.offer-3 .claim')
    await flush()
    const [first, second] = mp.requests.filter((r) => r.path === '/api/v1/coupon-templates/1/claim')
    expect(second.header['Idempotency-Key']).toBe(first.header['Idempotency-Key'])
    expect(mp.called('showToast').pop().title).toBe('优惠券已被领完')
    expect(text(page, '.offer-3 .claim-state')).toBe('已领完')
    expect(page.data.offerKeys['3']).toBe('')
  })

  test('报名 from the list: confirmed is said, a full one says my place in the waitlist', async () => {
    const full = A.activity(1, { confirmed: 30, seats_left: 0, waitlisted: 4 })
    routeOffers([A.offer(4, 'activity', full)])
    const mine = A.waitlisted(1, 5)
    mp.route('POST', '/api/v1/activities/1/signups', 200, { signup: mine, created: true, activity: { ...full, waitlisted: 5, my: mine } })
    mp.route('GET', '/api/v1/offers/4', 200, A.offer(4, 'activity', { ...full, waitlisted: 5, my: mine }))
    const page = await open({ tab: 'offers' })
    expect(text(page, '.offer-4 .seats')).toBe('名额已满，4 人候补')
    expect(text(page, '.offer-4 .signup')).toBe('候补报名')
    await tap(page, '.offer-4 .signup')
    await flush()
    expect(mp.requests.find((r) => r.path === '/api/v1/activities/1/signups').data).toEqual({ estate_id: 12 })
    expect(mp.called('showModal').pop()).toMatchObject({ title: '已加入候补',
      content: '名额已满，您排在候补第 5 位。有人取消时会按顺序自动为您补上，并通知您。' })
    expect(text(page, '.offer-4 .signup-state')).toBe('候补第 5 位')

    restart()
    routeOffers([A.offer(4, 'activity', A.activity(1))])
    mp.route('POST', '/api/v1/activities/1/signups', 200, { signup: A.signup(1), created: true, activity: A.activity(1, { my: A.signup(1) }) })
    mp.route('GET', '/api/v1/offers/4', 200, A.offer(4, 'activity', A.activity(1, { seats_left: 17, my: A.signup(1) })))
    const again = await open({ tab: 'offers' })
    await tap(again, '.offer-4 .signup')
    await flush()
    expect(mp.called('showToast').pop().title).toBe('报名成功')
    expect(text(again, '.offer-4 .signup-state')).toBe('已报名')
    expect(text(again, '.offer-4 .seats')).toBe('剩 17 个名额')
  })

  test('an offer gone meanwhile leaves the list; none is the empty state; a failure retries; more come by the cursor', async () => {
    routeOffers([A.offer(3, 'coupon', A.template(1))], 'o2')
    mp.route('POST', '/api/v1/coupon-templates/1/claim', 409, apiError('coupon_template_expired', '该优惠券已过有效期'))
    mp.route('GET', '/api/v1/offers/3', 404, apiError('offer_not_found', '优惠已结束'))
    const page = await open({ tab: 'offers' })
    page.instance.onReachBottom()
    await flush()
    expect(offerCalls().pop().query.get('cursor')).toBe('o2')
    expect(page.querySelectorAll('.offer')).toHaveLength(2)
    expect(text(page, '.offer-2 .face')).toBe('立减30')
    await tap(page, '.offer-3 .claim')
    await flush()
    expect(page.querySelectorAll('.offer').map((o) => o.dom.className)).toEqual([expect.stringContaining('offer-2')])

    restart()
    routeEstate()
    let answer = ['network']
    mp.route('GET', '/api/v1/estates/12/offers', () => answer)
    const failed = await open({ tab: 'offers' })
    expect(failed.data.offersState).toBe('error')
    expect(text(failed, '.offers-state >>> .message')).toBe('网络连接失败，请检查网络后重试')
    answer = [200, { items: [], next_cursor: null }]
    await tap(failed, '.offers-state >>> .action')
    await flush()
    expect(text(failed, '.offers-state >>> .message')).toBe('小区暂时没有优惠和活动')
  })

  test('a notice opened through switchTab (no query): the tab comes through globalData, on a fresh or a shown page', async () => {
    routeOffers()
    const page = load('pages/estate/index')
    getApp().globalData.estateTab = 'offers'
    page.instance.onLoad({})
    page.instance.onShow()
    await flush(10)
    expect(page.data.tab).toBe('offers')
    expect(getApp().globalData.estateTab).toBe('')
    expect(offerCalls()).toHaveLength(1)

    restart()
    routeOffers()
    const shown = await open()
    expect(shown.data.tab).toBe('feed')
    getApp().globalData.estateTab = 'offers'
    shown.instance.onShow()
    await flush(10)
    expect(text(shown, '.tab.active')).toBe('优惠活动')
    expect(offerCalls()).toHaveLength(1)
    expect(shown.querySelectorAll('.offer')).toHaveLength(5)
  })
})
