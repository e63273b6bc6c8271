const { load, flush, text, tap, apiError } = require('../helpers')

const ESTATE_A = { id: 12, name: '翠竹苑', city: '深圳市', district: '南山区' }
const ESTATE_B = { id: 15, name: '海岸城花园', city: '深圳市', district: '南山区' }
const STEWARD = { binding_id: 7, engineer: { id: 3, name: '王建国', phone: '13800138000', status: 'active', photo_url: null },
  estate: ESTATE_A, since: '2026-12-01T10:00:00+08:00' }
const residency = (estate) => ({ estate, source: 'self', joined_at: '2026-12-01T02:00:00+00:00' })
const ME = { id: 5, display_name: '陈先生', avatar_url: null, phone: null, phone_confirmed: false, username: null,
  roles: ['resident'], created_at: '2026-11-01T02:00:00+00:00' }
const INBOX = (unread) => ({ items: [{ id: 1, kind: 'order', title: '服务单已派单', body: '王建国师傅为您服务', page: null,
  wechat: false, read: false, created_at: '2026-12-04T02:00:00+00:00' }], next_cursor: null, unread_count: unread })

function answer({ stewards = [STEWARD], estates = [ESTATE_A, ESTATE_B], me = ME, unread = 0 } = {}) {
  mp.route('GET', '/api/v1/me/stewards', 200, { items: stewards })
  mp.route('GET', '/api/v1/me/estates', 200, { items: estates.map(residency) })
  mp.route('GET', '/api/v1/me', 200, me)
  mp.route('GET', '/api/v1/me/notifications', 200, INBOX(unread))
}

const names = (page) => page.querySelectorAll('.estate-name').map((el) => el.dom.textContent)

async function open() {
  const page = load('pages/index/index')
  page.instance.onShow()
  await flush()
  return page
}

beforeEach(() => {
  wx.setStorageSync('linli.token', 'tok')
})

test('shows my steward, my estates with the first one current, and the quick actions', async () => {
  answer({ unread: 3 })
  const page = load('pages/index/index')
  expect(page.querySelector('.loading')).toBeTruthy()
  expect(page.data.state).toBe('loading')
  page.instance.onShow()
  await flush()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.steward-card >>> .name')).toContain('王建国')
  expect(text(page, '.steward-card >>> .estate')).toBe('翠竹苑')
  const rows = page.querySelectorAll('.estate')
  expect(rows.map((r) => r.dom.textContent.replace(/\s+/g, ' ').trim())).toEqual([
    '翠竹苑当前深圳市 南山区退出', '海岸城花园深圳市 南山区退出'])
  expect(text(page, '.estate.current .estate-name')).toBe('翠竹苑')
  expect(getApp().globalData.estateId).toBe(12)
  expect(text(page, '.unread')).toBe('3')
  expect(page.querySelector('.work')).toBeUndefined()
  expect(page.querySelector('.welcome')).toBeUndefined()
  expect(mp.requests.find((r) => r.path === '/api/v1/me/notifications').query.get('limit')).toBe('1')
  expect(getApp().globalData.me).toEqual(ME)
})

test('the app’s estate is the current one', async () => {
  answer()
  const page = load('pages/index/index')
  getApp().globalData.estateId = 15
  page.instance.onShow()
  await flush()
  expect(text(page, '.estate.current .estate-name')).toBe('海岸城花园')
  expect(page.data.currentId).toBe(15)
})

test('an estate I no longer live in gives way to my first', async () => {
  answer()
  const page = load('pages/index/index')
  getApp().globalData.estateId = 99
  page.instance.onShow()
  await flush()
  expect(page.data.currentId).toBe(12)
  expect(getApp().globalData.estateId).toBe(12)
})

test('tapping the steward opens the engineer’s page', async () => {
  answer()
  const page = await open()
  await tap(page, '.steward-card >>> .steward')
  expect(mp.called('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/engineer/index?id=3' })])
})

test('tapping an estate makes it current and opens the 小区 tab', async () => {
  answer()
  const page = await open()
  page.querySelectorAll('.estate-main')[1].dispatchEvent('tap')
  await flush()
  expect(getApp().globalData.estateId).toBe(15)
  expect(mp.called('switchTab')).toEqual([expect.objectContaining({ url: '/pages/estate/index' })])
})

test('leaving an estate asks first, then deletes it and the next one becomes current', async () => {
  answer()
  let deleted = ''
  mp.route('DELETE', /^\/api\/v1\/me\/estates\/\d+$/, (req) => { deleted = req.path; return [204, null] })
  const page = await open()
  await tap(page, '.estate .leave')
  const modal = mp.called('showModal')[0]
  expect(modal.title).toBe('退出小区')
  expect(modal.content).toContain('翠竹苑')
  await flush()
  expect(deleted).toBe('/api/v1/me/estates/12')
  expect(names(page)).toEqual(['海岸城花园'])
  expect(page.data.currentId).toBe(15)
  expect(getApp().globalData.estateId).toBe(15)
  expect(mp.called('showToast').pop().title).toBe('已退出翠竹苑')
})

test('cancelling the confirmation leaves nothing', async () => {
  answer()
  const page = await open()
  mp.modalConfirm = false
  await tap(page, '.estate .leave')
  await flush()
  expect(mp.requests.filter((r) => r.method === 'DELETE')).toEqual([])
  expect(page.querySelectorAll('.estate')).toHaveLength(2)
})

test('a refused leave is told and the list reloaded', async () => {
  answer()
  mp.route('DELETE', /^\/api\/v1\/me\/estates\/\d+$/, 404, apiError('residency_not_found', '您不是该小区的住户'))
  const page = await open()
  answer({ estates: [ESTATE_B] })
  await tap(page, '.estate .leave')
  await flush()
  expect(mp.called('showToast').pop().title).toBe('您不是该小区的住户')
  expect(names(page)).toEqual(['海岸城花园'])
})

test('quick actions open their pages with the current estate', async () => {
  answer()
  const page = load('pages/index/index')
  getApp().globalData.estateId = 15
  page.instance.onShow()
  await flush()
  for (const action of ['ask', 'request', 'points', 'notifications']) await tap(page, `.action-${action}`)
  expect(mp.called('navigateTo').map((a) => a.url)).toEqual([
    '/pages/ask/index?estate_id=15', '/pages/request/index?estate_id=15', '/pages/points/index', '/pages/notifications/index'])
})

test('a large unread count is capped', async () => {
  answer({ unread: 120 })
  const page = await open()
  expect(text(page, '.unread')).toBe('99+')
})

test('an engineer sees the workbench entry', async () => {
  answer({ me: { ...ME, roles: ['engineer', 'resident'] } })
  const page = await open()
  expect(text(page, '.work .work-title')).toBe('工程师工作台')
  await tap(page, '.work')
  expect(mp.called('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/work/index' })])
})

test('a new user without steward or estate is told how to begin', async () => {
  answer({ stewards: [], estates: [] })
  const page = await open()
  expect(page.data.state).toBe('empty')
  expect(text(page, '.welcome-view >>> .message')).toBe('欢迎来到邻里')
  expect(text(page, '.welcome-view >>> .hint')).toContain('扫一扫')
  expect(page.querySelector('.estates')).toBeUndefined()
  expect(getApp().globalData.estateId).toBe(null)
  await tap(page, '.welcome-view >>> .action')
  expect(mp.called('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/estates/index' })])
  // asking a neighbour needs an estate first
  await tap(page, '.action-ask')
  expect(mp.called('showToast').pop().title).toBe('请先加入您的小区')
  expect(mp.called('navigateTo').pop().url).toBe('/pages/estates/index')
})

test('a steward but no estate: the estates card says so and offers to add one', async () => {
  answer({ estates: [] })
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.no-estate')).toBe('还没有加入小区')
  await tap(page, '.add-estate')
  expect(mp.called('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/estates/index' })])
})

test('no steward yet: a hint how to bind one', async () => {
  answer({ stewards: [] })
  const page = await open()
  expect(text(page, '.no-steward')).toContain('扫他出示的二维码')
  expect(page.querySelector('.steward-card')).toBeUndefined()
})

test('a failed load shows the error with a retry', async () => {
  mp.route('GET', '/api/v1/me/stewards', 500, apiError('internal_error', '服务器内部错误'))
  mp.route('GET', '/api/v1/me/estates', 200, { items: [] })
  mp.route('GET', '/api/v1/me', 200, ME)
  mp.route('GET', '/api/v1/me/notifications', 200, INBOX(0))
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('服务器内部错误')
  answer()
  await tap(page, '.load-error >>> .action')
  await flush()
  expect(page.data.state).toBe('ready')
  expect(page.querySelectorAll('.estate')).toHaveLength(2)
})

test('without the account or the inbox the page still shows', async () => {
  mp.route('GET', '/api/v1/me/stewards', 200, { items: [STEWARD] })
  mp.route('GET', '/api/v1/me/estates', 200, { items: [residency(ESTATE_A)] })
  mp.route('GET', '/api/v1/me', 'network')
  mp.route('GET', '/api/v1/me/notifications', 503, apiError('service_unavailable', '服务繁忙，请稍后再试'))
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(page.querySelector('.unread')).toBeUndefined()
  expect(page.querySelector('.work')).toBeUndefined()
})

test('coming back (onShow) shows an estate joined meanwhile, and pull-down refresh reloads', async () => {
  answer({ estates: [ESTATE_A] })
  const page = await open()
  expect(page.querySelectorAll('.estate')).toHaveLength(1)
  answer({ estates: [ESTATE_A, ESTATE_B] })
  getApp().globalData.estateId = 15 // the estates page joined it
  page.instance.onShow()
  await flush()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.estate.current .estate-name')).toBe('海岸城花园')
  answer({ estates: [ESTATE_B], unread: 2 })
  await page.instance.onPullDownRefresh()
  expect(page.querySelectorAll('.estate')).toHaveLength(1)
  expect(text(page, '.unread')).toBe('2')
  expect(mp.called('stopPullDownRefresh')).toHaveLength(1)
})

describe('opened from an ambassador’s invite', () => {
  const ATTRIBUTED = (result) => ({ result, referral: { id: 4, inviter_name: '李*', attributed_at: '2026-12-04T02:00:00+00:00',
    protected_until: '2027-01-03T02:00:00+00:00', status: 'pending', status_label: '待达标' } })

  async function openWith(scene) {
    const page = load('pages/index/index')
    page.instance.onLoad({ scene })
    page.instance.onShow()
    await flush()
    return page
  }

  test('the newcomer is attributed at once and offered the application with the code', async () => {
    answer()
    mp.route('POST', '/api/v1/referrals', 200, ATTRIBUTED('created'))
    const page = await openWith(encodeURIComponent('i=AB12CD'))
    const call = mp.requests.find((r) => r.path === '/api/v1/referrals')
    expect(call.data).toEqual({ invite_code: 'i=AB12CD' })
    expect(call.header['Idempotency-Key']).toBeTruthy()
    expect(text(page, '.invite .card-title')).toBe('李* 邀请您加入邻里')
    await tap(page, '.apply')
    expect(mp.called('navigateTo').pop().url).toBe('/pages/apply/index?invite_code=AB12CD')
  })

  test('an earlier inviter keeps the newcomer: no offer in another’s name', async () => {
    answer()
    mp.route('POST', '/api/v1/referrals', 200, ATTRIBUTED('kept'))
    const page = await openWith(encodeURIComponent('i=AB12CD'))
    expect(page.querySelector('.invite')).toBeUndefined()
  })

  test('a refused invite is not the newcomer’s problem: the page shows as usual', async () => {
    answer()
    mp.route('POST', '/api/v1/referrals', 409, apiError('self_referral', '不能使用自己的邀请码'))
    const page = await openWith(encodeURIComponent('i=AB12CD'))
    expect(page.querySelector('.invite')).toBeUndefined()
    expect(mp.called('showToast')).toEqual([])
    expect(page.data.state).toBe('ready')
  })

  test('any other scene is not an invite', async () => {
    answer()
    await openWith('x=1')
    expect(mp.requests.some((r) => r.path === '/api/v1/referrals')).toBe(false)
  })
})
