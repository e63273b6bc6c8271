/**
 * utils/reloadable: onLoad, pull-down refresh and 重试 of a page that loads, and how a failed
 * load shows (on a small page defined here; the pages that use it have their own tests).
 */
const simulate = require('miniprogram-simulate')
const { flush } = require('../helpers')

/**
 * A page with the behavior and the given data and methods.
 * @param {object} [definition]
 */
function open(definition = {}) {
  let api
  let reloadable
  jest.isolateModules(() => {
    api = require('../../src/utils/api')
    reloadable = require('../../src/utils/reloadable')
  })
  const id = simulate.load({ template: '<view class="state">{{state}}</view>', behaviors: [reloadable], ...definition })
  const page = simulate.render(id)
  page.attach(document.createElement('parent-wrapper'))
  return { page, api }
}

test('onLoad loads; 重试 shows loading, then loads again', async () => {
  const states = []
  const { page } = open({
    data: { state: 'loading', loads: 0 },
    methods: { async load() { states.push(this.data.state); this.setData({ loads: this.data.loads + 1, state: 'ready' }) } },
  })
  page.instance.onLoad({ id: '3' })
  expect(page.data.loads).toBe(1)
  page.setData({ state: 'error' })
  page.instance.onRetry()
  expect(page.data.loads).toBe(2)
  expect(states).toEqual(['loading', 'loading'])
})

test('pull-down refresh waits for the load, then stops the spinner, also when the load throws', async () => {
  let release
  const { page } = open({
    data: { state: 'ready' },
    methods: { load() { return new Promise((resolve, reject) => { release = { resolve, reject } }) } },
  })
  const refreshing = page.instance.onPullDownRefresh()
  await flush()
  expect(mp.called('stopPullDownRefresh')).toHaveLength(0)
  release.resolve()
  await refreshing
  expect(mp.called('stopPullDownRefresh')).toHaveLength(1)
  const failing = page.instance.onPullDownRefresh()
  release.reject(new Error('boom'))
  await expect(failing).rejects.toThrow('boom')
  expect(mp.called('stopPullDownRefresh')).toHaveLength(2)
})

test('a page that forgot load() is told so', async () => {
  const { page } = open({ data: { state: 'loading' } })
  await expect(page.instance.load()).rejects.toThrow('writes load()')
})

test('loadFailed: nothing shown yet (loading, or the error already): the error state, with the page\'s error data', async () => {
  const { page, api } = open({ data: { state: 'loading', errorMessage: '' }, methods: { async load() {} } })
  const err = new api.ApiError(403, 'forbidden', '没有权限')
  page.instance.loadFailed(err, { errorMessage: err.message })
  expect(page.data.state).toBe('error')
  expect(page.data.errorMessage).toBe('没有权限')
  page.instance.loadFailed(new api.ApiError(0, 'network_error', '网络连接失败，请检查网络后重试'), { errorMessage: '又失败了' })
  expect(page.data.errorMessage).toBe('又失败了')
  expect(mp.called('showToast')).toEqual([])
})

test('loadFailed: what was loaded (ready or empty) stays, and a toast says why', async () => {
  const { page, api } = open({ data: { state: 'ready' }, methods: { async load() {} } })
  page.instance.loadFailed(new api.ApiError(503, 'unavailable', '服务暂不可用'), { errorMessage: 'x' })
  expect(page.data.state).toBe('ready')
  page.setData({ state: 'empty' })
  page.instance.loadFailed(new Error('not the server\'s'))
  expect(page.data.state).toBe('empty')
  expect(mp.called('showToast').map((t) => t.title)).toEqual(['服务暂不可用', '服务器开小差了，请稍后再试'])
})

test('loadFailed with another state: a part of the page with a state of its own', async () => {
  const { page, api } = open({ data: { state: 'ready', reviewsState: 'loading' }, methods: { async load() {} } })
  page.instance.loadFailed(new api.ApiError(0, 'network_error', '网络连接失败，请检查网络后重试'), {}, 'reviewsState')
  expect(page.data.reviewsState).toBe('error')
  expect(page.data.state).toBe('ready')
  page.setData({ reviewsState: 'ready' })
  page.instance.loadFailed(new api.ApiError(500, 'server_error', '服务器开小差了'), {}, 'reviewsState')
  expect(page.data.reviewsState).toBe('ready')
  expect(mp.called('showToast').pop().title).toBe('服务器开小差了')
})
