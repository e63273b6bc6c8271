const { load, flush, text, tap, apiError } = require('../helpers')
const F = require('./work-fixtures')

beforeEach(() => wx.setStorageSync('linli.token', 't'))

async function open(pages) {
  mp.route('GET', '/api/v1/engineer/questions', (req) => pages(req.query))
  const page = load('pages/work/questions/index')
  page.instance.onLoad()
  await flush()
  return page
}

const both = () => [200, { items: [
  F.question(1, '热水器漏水怎么办？', { photos: ['/api/v1/uploads/q.jpg'] }),
  F.question(2, '净水器滤芯多久换？', { estate_id: 13, estate_name: '碧水湾', author: { id: 22, name: '邻居', badge: null, badge_label: null }, my_answer_held: true }),
], next_cursor: null }]

const questions = (page) => page.querySelectorAll('.question')
const inside = (el, sel) => { const found = el.dom.querySelector(sel.replace('.', '.main--')); return found ? found.textContent.trim() : null }

test('questions of my estates, oldest first, each with its estate, asker and photos; a tap opens it', async () => {
  const page = await open(both)
  expect(page.data.state).toBe('ready')
  const [first, second] = questions(page)
  expect(inside(first, '.meta')).toBe('翠竹苑 · 陈阿姨 · 12月3日 10:00')
  expect(inside(first, '.text')).toBe('热水器漏水怎么办？')
  expect(page.data.items[0].photos).toEqual(['http://127.0.0.1:5000/api/v1/uploads/q.jpg'])
  expect(inside(first, '.held')).toBeNull()
  expect(inside(second, '.meta')).toBe('碧水湾 · 邻居 · 12月3日 10:00')
  expect(inside(second, '.held')).toBe('您的回答已提交，审核通过后提问者才能看到；如需补充可再次回答。')
  await tap(page, '.open')
  expect(mp.called('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/post/index?id=1' })])
  await tap(page, '.photo')
  expect(mp.called('previewImage')[0]).toEqual(expect.objectContaining({ current: 'http://127.0.0.1:5000/api/v1/uploads/q.jpg' }))
})

test('an answer published is shown in place of the box', async () => {
  const page = await open(both)
  mp.route('POST', '/api/v1/posts/1/answers', (req) => [201, F.answer(1, req.data.text)])
  page.querySelectorAll('.answer-box')[0].dispatchEvent('input', { detail: { value: ' 先关闭进水总阀，我明天上门看看 ' } })
  page.querySelectorAll('.send')[0].dispatchEvent('tap')
  await flush()
  expect(mp.requests.find((r) => r.method === 'POST').data).toEqual({ text: '先关闭进水总阀，我明天上门看看' })
  expect(inside(questions(page)[0], '.answered')).toBe('已发布：先关闭进水总阀，我明天上门看看')
  expect(inside(questions(page)[0], '.answer-box')).toBeNull()
  expect(mp.called('showToast').pop().title).toBe('回答已发布')
})

test('an answer held for a moderator says so and the box stays for another', async () => {
  const page = await open(() => [200, { items: [F.question(1, '热水器漏水怎么办？')], next_cursor: null }])
  mp.route('POST', '/api/v1/posts/1/answers', (req) => [201, F.answer(1, req.data.text, 'held')])
  page.instance.onDraft({ currentTarget: { dataset: { id: 1 } }, detail: { value: '加微信细聊' } })
  await tap(page, '.send')
  expect(page.data.items[0]).toEqual(expect.objectContaining({ held: true, draft: '', answered: '' }))
  expect(text(page, '.held')).toContain('审核通过后提问者才能看到')
  expect(page.querySelector('.answer-box')).toBeTruthy()
  expect(mp.called('showToast').pop().title).toBe('已提交，审核通过后显示')
})

test('an empty answer is not sent; a refused one says why under the box and keeps the draft', async () => {
  const page = await open(() => [200, { items: [F.question(1, '热水器漏水怎么办？')], next_cursor: null }])
  await tap(page, '.send')
  expect(text(page, '.answer-error')).toBe('请填写回答')
  expect(mp.requests.filter((r) => r.method === 'POST')).toEqual([])
  mp.route('POST', '/api/v1/posts/1/answers', 409, apiError('content_risky', '内容包含违规信息，无法发布，请修改后再试'))
  page.instance.onDraft({ currentTarget: { dataset: { id: 1 } }, detail: { value: '可以代开发票' } })
  expect(page.querySelector('.answer-error')).toBeUndefined()
  await tap(page, '.send')
  expect(text(page, '.answer-error')).toBe('内容包含违规信息，无法发布，请修改后再试')
  expect(page.data.items[0].draft).toBe('可以代开发票')
  expect(page.data.items[0].sending).toBe(false)
  mp.route('POST', '/api/v1/posts/1/answers', 'network')
  await tap(page, '.send')
  expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
})

test('more questions load at the bottom; pull-down reloads', async () => {
  const page = await open((q) => [200, q.get('cursor') === 'c2'
    ? { items: [F.question(3, '第三个')], next_cursor: null }
    : { items: [F.question(1, '第一个'), F.question(2, '第二个')], next_cursor: 'c2' }])
  expect(text(page, '.more')).toBe('上拉加载更多')
  page.instance.onReachBottom()
  await flush()
  expect(page.data.items.map((q) => q.id)).toEqual([1, 2, 3])
  await page.instance.onPullDownRefresh()
  expect(page.data.items.map((q) => q.id)).toEqual([1, 2])
  expect(mp.requests.map((r) => r.query.get('limit'))).toEqual(['20', '20', '20'])
})

test('nothing waiting, or a failed load with a retry', async () => {
  const empty = await open(() => [200, { items: [], next_cursor: null }])
  expect(text(empty, '.empty >>> .message')).toBe('暂无待回答的提问')
  let calls = 0
  const page = await open(() => (calls++ === 0 ? [500, apiError('server_error', '服务器开小差了')] : both()))
  expect(text(page, '.load-error >>> .message')).toBe('提问加载失败，请检查网络')
  await tap(page, '.load-error >>> .action')
  expect(questions(page)).toHaveLength(2)
})
