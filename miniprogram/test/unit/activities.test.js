const { load, flush, text, tap } = require('../helpers')
const A = require('./activation-fixtures')

A.fixClock()

beforeEach(() => mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 'tok' }))

const UPCOMING = [
  A.activity(1, { my: A.signup(1) }),
  A.activity(2, { title: '亲子手工课', place: '儿童活动室', starts_at: '2026-12-12T02:00:00+00:00', ends_at: '2026-12-12T04:00:00+00:00',
    my: A.waitlisted(2, 2) }),
]
const ALL = [
  ...UPCOMING,
  A.activity(3, { title: '垃圾分类讲座', state: 'ended', state_label: '已结束', my: A.signup(3, { checked_in_at: '2026-11-20T02:00:00+00:00' }) }),
  A.activity(4, { title: '读书会', my: A.signup(4, { status: 'cancelled', status_label: '已取消', code: null }) }),
]

function routeMine() {
  mp.route('GET', '/api/v1/me/activities', (req) => (req.query.get('tab') === 'all'
    ? [200, { items: ALL, next_cursor: null }]
    : [200, { items: UPCOMING, next_cursor: req.query.get('cursor') ? null : 'c2' }]))
}

async function open() {
  const page = load('pages/activities/index')
  page.instance.onLoad({})
  await flush()
  return page
}

test('即将参加 lists my activities with time, place and my standing; a tap opens the activity', async () => {
  routeMine()
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(mp.requests[mp.requests.length - 1].query.get('tab')).toBe('upcoming')
  expect(page.querySelectorAll('.item-title').map((t) => t.dom.textContent)).toEqual(['社区义诊', '亲子手工课'])
  expect(text(page, '.item-1 .mine')).toBe('已报名')
  expect(text(page, '.item-2 .mine')).toBe('候补第 2 位')
  expect(text(page, '.item-1 .time')).toBe('12月10日 14:00–16:00 · 未开始')
  expect(text(page, '.item-2 .place')).toBe('儿童活动室')
  await tap(page, '.item-2')
  expect(mp.called('navigateTo').pop().url).toBe('/pages/activity/index?id=2')
})

test('全部 shows past and cancelled ones too; the next page comes by the cursor', async () => {
  routeMine()
  const page = await open()
  await page.instance.onReachBottom()
  await flush()
  expect(mp.requests.filter((r) => r.path === '/api/v1/me/activities').pop().query.get('cursor')).toBe('c2')
  await tap(page, '.tab-all')
  await flush()
  expect(page.data.tab).toBe('all')
  expect(page.querySelectorAll('.item')).toHaveLength(4)
  expect(text(page, '.item-3 .mine')).toBe('已签到')
  expect(text(page, '.item-4 .mine')).toBe('已取消')
})

test('nothing signed up says where activities are', async () => {
  mp.route('GET', '/api/v1/me/activities', 200, { items: [], next_cursor: null })
  const page = await open()
  expect(page.data.state).toBe('empty')
  expect(text(page, '.empty >>> .message')).toBe('近期没有要参加的活动')
  expect(text(page, '.empty >>> .hint')).toBe('小区的社区活动在「小区」页的「优惠活动」里')
})

test('a failed load offers a retry', async () => {
  let answer = ['network']
  mp.route('GET', '/api/v1/me/activities', () => answer)
  const page = await open()
  expect(page.data.state).toBe('error')
  answer = [200, { items: UPCOMING, next_cursor: null }]
  await tap(page, '.load-error >>> .action')
  expect(page.data.state).toBe('ready')
})
