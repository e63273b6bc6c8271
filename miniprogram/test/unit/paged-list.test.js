/**
 * utils/paged-list: the Behavior of a cursor-paginated list, on a small page defined here (the
 * pages that use it have their own tests).
 */
const simulate = require('miniprogram-simulate')
const { flush, apiError } = require('../helpers')

const PATH = '/api/v1/things'
const thing = (id) => ({ id, name: `物品 ${id}` })

/**
 * A page with the list: its definition (behaviors and methods of its own) as given.
 * @param {(pagedList: Function, api: any) => object} define
 */
function open(define) {
  let definition
  jest.isolateModules(() => {
    definition = define(require('../../src/utils/paged-list'), require('../../src/utils/api'))
  })
  const id = simulate.load({
    template: '<view class="state">{{state}}</view><view class="item" wx:for="{{items}}" wx:key="id">{{item.name}}</view>',
    ...definition,
  })
  const page = simulate.render(id)
  page.attach(document.createElement('parent-wrapper'))
  return page
}

/** The list's requests: their cursor and limit. */
const asked = () => mp.requests.filter((r) => r.path === PATH).map((r) => [r.query.get('cursor'), r.query.get('limit')])

beforeEach(() => {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 't' })
})

test('the first page on load, shaped, then the next by its cursor at the bottom until there is none', async () => {
  mp.route('GET', PATH, (req) => [200, req.query.get('cursor') === 'c2'
    ? { items: [thing(1)], next_cursor: null } : { items: [thing(3), thing(2)], next_cursor: 'c2' }])
  const page = open((pagedList) => ({
    behaviors: [pagedList({ path: PATH, query: { limit: 2 }, shape: (t) => ({ ...t, name: t.name.toUpperCase() }) })],
  }))
  page.instance.onLoad({})
  await flush()
  expect(page.data.state).toBe('ready')
  expect(page.data.items.map((t) => t.id)).toEqual([3, 2])
  expect(page.data.items[0].name).toBe('物品 3'.toUpperCase())
  expect(page.data.cursor).toBe('c2')
  expect(page.querySelectorAll('.item')).toHaveLength(2)

  page.instance.onReachBottom()
  page.instance.onReachBottom() // while the next page is on its way: nothing more
  expect(page.data.loadingMore).toBe(true)
  await flush()
  expect(page.data.items.map((t) => t.id)).toEqual([3, 2, 1])
  expect(page.data.cursor).toBeNull()
  expect(page.data.loadingMore).toBe(false)
  page.instance.onReachBottom()
  await flush()
  expect(asked()).toEqual([[null, '2'], ['c2', '2']])
})

test('nothing in the list: empty; an answer without next_cursor (one page) leaves no cursor', async () => {
  mp.route('GET', PATH, 200, { items: [] })
  const page = open((pagedList) => ({ behaviors: [pagedList({ path: PATH })] }))
  page.instance.onLoad({})
  await flush()
  expect(page.data.state).toBe('empty')
  expect(page.data.cursor).toBeNull()
})

test('a first page that fails shows the error state; 重试 shows loading, then the list', async () => {
  let answer = ['network']
  mp.route('GET', PATH, () => answer)
  const page = open((pagedList) => ({ behaviors: [pagedList({ path: PATH })] }))
  page.instance.onLoad({})
  await flush()
  expect(page.data.state).toBe('error')
  expect(mp.called('showToast')).toEqual([])

  answer = [200, { items: [thing(1)], next_cursor: null }]
  page.instance.onRetry()
  expect(page.data.state).toBe('loading')
  await flush()
  expect(page.data.state).toBe('ready')
})

test('a refresh that fails keeps what is shown and says why; the spinner stops either way', async () => {
  let answer = [200, { items: [thing(1)], next_cursor: null }]
  mp.route('GET', PATH, () => answer)
  const page = open((pagedList) => ({ behaviors: [pagedList({ path: PATH })] }))
  page.instance.onLoad({})
  await flush()
  answer = [503, apiError('unavailable', '服务暂不可用')]
  await page.instance.onPullDownRefresh()
  expect(page.data.state).toBe('ready')
  expect(page.data.items).toHaveLength(1)
  expect(mp.called('showToast').pop().title).toBe('服务暂不可用')
  expect(mp.called('stopPullDownRefresh')).toHaveLength(1)
})

test('a next page that fails is told in a toast; the list stays and may try again', async () => {
  let fail = true
  mp.route('GET', PATH, (req) => {
    if (!req.query.get('cursor')) return [200, { items: [thing(2)], next_cursor: 'c1' }]
    return fail ? ['network'] : [200, { items: [thing(1)], next_cursor: null }]
  })
  const page = open((pagedList) => ({ behaviors: [pagedList({ path: PATH })] }))
  page.instance.onLoad({})
  await flush()
  await page.instance.onReachBottom()
  expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
  expect(page.data.items.map((t) => t.id)).toEqual([2])
  expect(page.data.cursor).toBe('c1')
  expect(page.data.loadingMore).toBe(false)
  fail = false
  await page.instance.onReachBottom()
  expect(page.data.items.map((t) => t.id)).toEqual([2, 1])
})

test('the page names its data, and gives its path, query, shaping, extra data and error data by methods', async () => {
  mp.route('GET', '/api/v1/shelves/7/things', (req) => (req.query.get('cursor') === 'n'
    ? [200, { items: [thing(2), thing(1)], next_cursor: null, total: 3 }]
    : [200, { items: [thing(3), thing(2)], next_cursor: 'n', total: 2 }]))
  const more = []
  const page = open((pagedList) => ({
    behaviors: [pagedList({ items: 'things', cursor: 'nextCursor', state: 'thingsState' })],
    data: { shelf: 7, state: 'ready' },
    methods: {
      listPath() { return `/api/v1/shelves/${this.data.shelf}/things` },
      listQuery() { return { limit: 5, sort: 'new' } },
      listItems(items, isMore) {
        more.push(isMore)
        const shown = new Set(isMore ? this.data.things.map((t) => t.id) : [])
        return items.filter((t) => !shown.has(t.id))
      },
      listExtra(answer) { return { total: answer.total } },
    },
  }))
  page.instance.onLoad({})
  await flush()
  expect(page.data.thingsState).toBe('ready')
  expect(page.data.nextCursor).toBe('n')
  expect(page.data.total).toBe(2)
  await page.instance.onReachBottom()
  expect(page.data.things.map((t) => t.id)).toEqual([3, 2, 1])
  expect(page.data.total).toBe(3)
  expect(more).toEqual([false, true])
  const [first, second] = mp.requests.filter((r) => r.path === '/api/v1/shelves/7/things')
  expect([...first.query.entries()]).toEqual([['limit', '5'], ['sort', 'new']])
  expect([...second.query.entries()]).toEqual([['limit', '5'], ['sort', 'new'], ['cursor', 'n']])
  expect(page.data.state).toBe('ready') // the page's own state is not the list's
})

test('a first page that fails shows the page\'s error data with the error state', async () => {
  mp.route('GET', PATH, 403, apiError('not_ambassador', '您还不是服务代言人'))
  const page = open((pagedList) => ({
    behaviors: [pagedList({ path: PATH })],
    data: { errorMessage: '' },
    methods: { listError(err) { return { errorMessage: err.message } } },
  }))
  page.instance.onLoad({})
  await flush()
  expect(page.data.state).toBe('error')
  expect(page.data.errorMessage).toBe('您还不是服务代言人')
})

test('an answer or a failure for what the list no longer is of (listKey changed meanwhile) is dropped', async () => {
  mp.route('GET', PATH, (req) => {
    if (req.query.get('tab') === 'b') return [200, { items: [thing(2)], next_cursor: null }]
    return req.query.get('fail') ? ['network'] : [200, { items: [thing(1)], next_cursor: null }]
  })
  const page = open((pagedList) => ({
    behaviors: [pagedList({ path: PATH })],
    data: { tab: 'a', fail: '' },
    methods: {
      listQuery() { return { tab: this.data.tab, fail: this.data.fail } },
      listKey() { return this.data.tab },
    },
  }))
  page.instance.onLoad({}) // tab a on its way …
  page.setData({ tab: 'b' }) // … when tab b is chosen
  await flush()
  expect(page.data.state).toBe('loading')
  expect(page.data.items).toEqual([])
  page.setData({ tab: 'a', fail: '1' })
  page.instance.load() // a failing, while b is chosen again
  page.setData({ tab: 'b' })
  await flush()
  expect(page.data.state).toBe('loading')
  page.instance.load()
  await flush()
  expect(page.data.state).toBe('ready')
  expect(page.data.items.map((t) => t.id)).toEqual([2])
})

test('a next page for what the list no longer is of is dropped', async () => {
  mp.route('GET', PATH, (req) => [200, req.query.get('cursor') ? { items: [thing(1)], next_cursor: null } : { items: [thing(2)], next_cursor: 'c' }])
  const page = open((pagedList) => ({
    behaviors: [pagedList({ path: PATH })],
    data: { tab: 'a' },
    methods: { listKey() { return this.data.tab } },
  }))
  page.instance.onLoad({})
  await flush()
  page.instance.onReachBottom()
  page.setData({ tab: 'b' })
  await flush()
  expect(page.data.items.map((t) => t.id)).toEqual([2])
  expect(page.data.loadingMore).toBe(false)
})

test('a page that loads more than the list overrides load() and calls loadList()', async () => {
  mp.route('GET', PATH, 200, { items: [thing(1)], next_cursor: null })
  mp.route('GET', '/api/v1/shelf', 200, { name: '书架' })
  const page = open((pagedList, api) => ({
    behaviors: [pagedList({ path: PATH, state: 'listState' })],
    data: { state: 'loading', shelf: null },
    methods: {
      async load() {
        const [shelf] = await Promise.all([api.request('/api/v1/shelf'), this.loadList()])
        this.setData({ shelf, state: 'ready' })
      },
    },
  }))
  page.instance.onLoad({})
  await flush()
  expect(page.data.state).toBe('ready')
  expect(page.data.listState).toBe('ready')
  expect(page.data.shelf).toEqual({ name: '书架' })
})
