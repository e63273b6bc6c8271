const { load, flush, text, tap, apiError } = require('../helpers')

/** Recorded from GET /api/v1/engineers/{id} and /reviews (the real shapes). */
const ENGINEER = {
  id: 3, name: '王建国', photo_url: '/api/v1/uploads/wang.jpg', intro: '十年家电维修经验，擅长空调和热水器。', status: 'active',
  estates: [
    { id: 12, name: '翠竹苑', city: '深圳市', district: '南山区', rank: 1, score: 29.132 },
    { id: 14, name: '海月花园', city: '深圳市', district: '南山区', rank: null, score: null },
  ],
  totals: { completed: 36, reviews: 2, avg_rating: 4.5, likes: 7 },
  liked: false, can_like: true, is_my_steward: true,
}
const REVIEW = (id, extra = {}) => ({ id, rating: 5, text: `师傅很专业${id}`, photos: [], created_at: '2026-12-01T02:00:00+00:00',
  estate_name: '翠竹苑', reviewer_name: '陈**', ...extra })

function routeProfile(engineer = ENGINEER, reviews = { items: [REVIEW(9, { photos: ['/api/v1/uploads/r1.jpg', '/api/v1/uploads/r2.jpg'] }), REVIEW(8, { rating: 4, reviewer_name: '用户' })], next_cursor: null }) {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 't' })
  mp.route('GET', '/api/v1/engineers/3', 200, engineer)
  mp.route('GET', '/api/v1/engineers/3/reviews', 200, reviews)
}

async function open(id = '3') {
  const page = load('pages/engineer/index')
  page.instance.onLoad({ id })
  await flush(10)
  return page
}

test('shows the photo, name, introduction, estates with ranks, the rating summary and the reviews', async () => {
  routeProfile()
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(page.data.photo).toBe('http://127.0.0.1:5000/api/v1/uploads/wang.jpg')
  expect(text(page, '.name')).toBe('王建国师傅')
  expect(text(page, '.steward')).toBe('我的管家')
  expect(text(page, '.intro')).toBe('十年家电维修经验，擅长空调和热水器。')
  expect(page.querySelectorAll('.estate-name').map((e) => e.dom.textContent)).toEqual(['翠竹苑', '海月花园'])
  expect(page.querySelectorAll('.rank').map((e) => e.dom.textContent)).toEqual(['排名第 1 位', '暂未排名'])
  expect([text(page, '.avg'), text(page, '.reviews-count'), text(page, '.completed'), text(page, '.likes')]).toEqual(['4.5', '2', '36', '7'])
  expect(page.data.stars).toBe(5)
  const items = page.querySelectorAll('.review-item')
  expect(items).toHaveLength(2)
  expect(text(page, '.review-item >>> .reviewer')).toBe('陈**')
  expect(text(page, '.review-item >>> .text')).toBe('师傅很专业9')
  expect(items[1].querySelector('.reviewer').dom.textContent).toBe('用户')
  expect(items[0].instance.data.photos).toEqual(['http://127.0.0.1:5000/api/v1/uploads/r1.jpg', 'http://127.0.0.1:5000/api/v1/uploads/r2.jpg'])
  expect(mp.called('setNavigationBarTitle')[0].title).toBe('王建国师傅')
  expect(mp.requests.find((r) => r.path.endsWith('/reviews')).query.get('limit')).toBe('10')
})

test('a review photo opens the preview of that review\'s photos', async () => {
  routeProfile()
  const page = await open()
  page.querySelectorAll('.review-item')[0].querySelectorAll('.photo')[1].dispatchEvent('tap')
  await flush()
  expect(mp.called('previewImage')[0]).toEqual(expect.objectContaining({
    urls: ['http://127.0.0.1:5000/api/v1/uploads/r1.jpg', 'http://127.0.0.1:5000/api/v1/uploads/r2.jpg'],
    current: 'http://127.0.0.1:5000/api/v1/uploads/r2.jpg' }))
})

test('reviews load page by page at the bottom, with the cursor', async () => {
  routeProfile(ENGINEER, { items: [REVIEW(9)], next_cursor: 'c1' })
  const page = await open()
  expect(text(page, '.more')).toBe('上拉加载更多')
  mp.route('GET', '/api/v1/engineers/3/reviews', (req) => (req.query.get('cursor') === 'c1'
    ? [200, { items: [REVIEW(8)], next_cursor: null }] : [500, {}]))
  page.instance.onReachBottom()
  await flush(10)
  expect(page.querySelectorAll('.review-item')).toHaveLength(2)
  expect(text(page, '.more')).toBe('没有更多了')
  const asked = mp.requests.length
  page.instance.onReachBottom()
  await flush()
  expect(mp.requests.length).toBe(asked)  // nothing more to load
})

test('a like by a served resident counts at once; others are told who may like', async () => {
  routeProfile()
  mp.route('POST', '/api/v1/engineers/3/like', 200, { engineer_id: 3, liked: true, created: true })
  const page = await open()
  await tap(page, '.like')
  expect(page.data.engineer.liked).toBe(true)
  expect(text(page, '.likes')).toBe('8')
  expect(text(page, '.liked')).toBe('已点赞')
  expect(page.querySelector('.like')).toBeUndefined()

  routeProfile({ ...ENGINEER, can_like: false, is_my_steward: false })
  const other = await open()
  expect(other.querySelector('.steward')).toBeUndefined()
  expect(other.querySelector('.like')).toBeUndefined()
  expect(text(other, '.like-hint')).toBe('为您完成过服务的工程师，您可以为他点赞')
  expect(text(other, '.likes')).toBe('7')
})

test('a like the server refuses after all (the page was stale) shows its reason', async () => {
  routeProfile()
  mp.route('POST', '/api/v1/engineers/3/like', 403, apiError('not_served', '只有这位工程师为您完成过服务后才能点赞'))
  const page = await open()
  await tap(page, '.like')
  expect(mp.called('showToast').pop().title).toBe('只有这位工程师为您完成过服务后才能点赞')
  expect(page.data.engineer.liked).toBe(false)
  expect(text(page, '.likes')).toBe('7')
})

test('"请他服务" opens the request page naming them, in the estate the resident is looking at', async () => {
  routeProfile()
  const page = await open()
  getApp().globalData.estateId = 14
  await tap(page, '.request')
  expect(mp.called('navigateTo')[0].url).toBe('/pages/request/index?engineer_id=3&estate_id=14')
  // an estate they do not serve: the request page finds it from the address
  getApp().globalData.estateId = 99
  await tap(page, '.request')
  expect(mp.called('navigateTo')[1].url).toBe('/pages/request/index?engineer_id=3')
  // one estate only: that one
  routeProfile({ ...ENGINEER, estates: [ENGINEER.estates[1]] })
  const single = await open()
  await tap(single, '.request')
  expect(mp.called('navigateTo')[2].url).toBe('/pages/request/index?engineer_id=3&estate_id=14')
})

test('sharing sends the page itself', async () => {
  routeProfile()
  const page = await open()
  expect(page.instance.onShareAppMessage()).toEqual({ title: '王建国师傅 · 邻里工程师', path: '/pages/engineer/index?id=3',
    imageUrl: 'http://127.0.0.1:5000/api/v1/uploads/wang.jpg' })
})

test('no reviews yet, no average', async () => {
  routeProfile({ ...ENGINEER, photo_url: null, totals: { completed: 0, reviews: 0, avg_rating: null, likes: 0 } }, { items: [], next_cursor: null })
  const page = await open()
  expect(text(page, '.reviews-empty')).toContain('还没有评价')
  expect(text(page, '.avg')).toBe('—')
  expect(page.querySelector('.avg-stars')).toBeUndefined()
  expect(text(page, '.initial')).toBe('王')
})

test('an engineer who left: the server\'s message; a failed load retries; pull-down reloads', async () => {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 't' })
  mp.route('GET', '/api/v1/engineers/3', 404, apiError('engineer_not_found', '工程师不存在'))
  mp.route('GET', '/api/v1/engineers/3/reviews', 404, apiError('engineer_not_found', '工程师不存在'))
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('工程师不存在')
  routeProfile()
  page.querySelector('.load-error').querySelector('.action').dispatchEvent('tap')
  await flush(10)
  expect(page.data.state).toBe('ready')
  page.instance.onPullDownRefresh()
  await flush(10)
  expect(mp.called('stopPullDownRefresh')).toHaveLength(1)
})

test('reviews that fail to load can be retried on their own', async () => {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 't' })
  mp.route('GET', '/api/v1/engineers/3', 200, ENGINEER)
  mp.route('GET', '/api/v1/engineers/3/reviews', 'network')
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.reviews-error >>> .message')).toBe('评价加载失败')
  mp.route('GET', '/api/v1/engineers/3/reviews', 200, { items: [REVIEW(9)], next_cursor: null })
  page.querySelector('.reviews-error').querySelector('.action').dispatchEvent('tap')
  await flush(10)
  expect(page.querySelectorAll('.review-item')).toHaveLength(1)
})
