const { load, flush, text, tap, apiError } = require('../helpers')

const RESIDENT = { id: 21, name: '邻居', badge: null, badge_label: null }

function created(extra = {}) {
  return { id: 40, estate_id: 12, kind: 'question', text: '热水器显示 E1 是什么故障？', photos: [], status: 'published',
    status_label: '已发布', author: RESIDENT, answers_count: 0, comments_count: 0, likes_count: 0,
    accepted_answer_id: null, review_id: null, created_at: '2026-12-04T02:00:00+00:00', ...extra }
}

beforeEach(() => {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 'tok', user: { id: 21 } })
  let n = 0
  mp.route('POST', '/api/v1/uploads', () => { n += 1; return [201, { id: `img${n}.jpg`, url: `/api/v1/uploads/img${n}.jpg` }] })
})

function open(options = { estate_id: '12', name: encodeURIComponent('翠竹苑') }) {
  const page = load('pages/ask/index')
  page.instance.onLoad(options)
  return page
}

const posts = () => mp.requests.filter((r) => r.path === '/api/v1/estates/12/posts')

test('a question with photos is posted to the estate, then its page opens', async () => {
  mp.route('POST', '/api/v1/estates/12/posts', (req) => [201, created({ photos: req.data.photo_ids.map((p) => `/api/v1/uploads/${p}`) })])
  const page = open()
  await flush()
  expect(text(page, '.intro')).toBe('向翠竹苑的邻居和服务工程师提问，工程师会尽快回答。')
  expect(page.querySelector('.photos').instance.data.max).toBe(9)
  mp.chosenMedia = ['/tmp/a.jpg', '/tmp/b.jpg']
  await tap(page, '.photos >>> .add')
  await flush(10)
  expect(page.data.photoIds).toEqual(['img1.jpg', 'img2.jpg'])
  page.instance.onText({ detail: { value: '  热水器显示 E1 是什么故障？ ' } })
  await flush()
  expect(text(page, '.counter')).toBe('18/2000')
  await tap(page, '.submit')
  await flush()
  const [sent] = posts()
  expect(sent.data).toEqual({ kind: 'question', text: '热水器显示 E1 是什么故障？', photo_ids: ['img1.jpg', 'img2.jpg'] })
  expect(sent.header['Idempotency-Key']).toMatch(/^[a-z0-9]+-[a-z0-9]+$/)
  expect(mp.called('showToast').pop().title).toBe('已发布')
  expect(mp.called('showModal')).toEqual([])
  expect(mp.called('redirectTo')[0].url).toBe('/pages/post/index?id=40')
  expect(getApp().globalData.feedStale).toBe(true)
})

test('a question held for review is said to be under review, not published', async () => {
  mp.route('POST', '/api/v1/estates/12/posts', 201, created({ status: 'held', status_label: '已提交，审核通过后显示' }))
  const page = open()
  page.instance.onText({ detail: { value: '需要的加微信聊' } })
  await tap(page, '.submit')
  await flush()
  const [modal] = mp.called('showModal')
  expect(modal.title).toBe('提问已提交审核')
  expect(modal.content).toBe('已提交，审核通过后显示。审核通过前，只有您能看到这条提问。')
  expect(modal.showCancel).toBe(false)
  expect(mp.called('showToast')).toEqual([])
  expect(mp.called('redirectTo')[0].url).toBe('/pages/post/index?id=40')
})

test('an empty question is not sent', async () => {
  const page = open()
  page.instance.onText({ detail: { value: '   ' } })
  await tap(page, '.submit')
  expect(text(page, '.text-error')).toBe('请写下您的问题')
  expect(posts()).toEqual([])
  page.instance.onText({ detail: { value: '有' } })
  await flush()
  expect(page.querySelector('.text-error')).toBeUndefined()
})

test('the server’s field errors are shown under their fields', async () => {
  mp.route('POST', '/api/v1/estates/12/posts', 422, apiError('validation_error', '最多 9 张照片',
    { fields: { photo_ids: ['最多 9 张照片'], text: ['内容不能超过 2000 字'] } }))
  const page = open()
  page.instance.onText({ detail: { value: '问题' } })
  await tap(page, '.submit')
  expect(text(page, '.text-error')).toBe('内容不能超过 2000 字')
  expect(text(page, '.photos-error')).toBe('最多 9 张照片')
  expect(mp.called('redirectTo')).toEqual([])
  expect(page.data.sending).toBe(false)
})

test('refused text is shown under the text; other refusals in a toast', async () => {
  mp.route('POST', '/api/v1/estates/12/posts', 409, apiError('content_risky', '内容包含违规信息，无法发布，请修改后再试'))
  const page = open()
  page.instance.onText({ detail: { value: '有人一起赌博吗' } })
  await tap(page, '.submit')
  expect(text(page, '.text-error')).toBe('内容包含违规信息，无法发布，请修改后再试')
  mp.route('POST', '/api/v1/estates/12/posts', 403, apiError('not_estate_member', '只有该小区的住户、服务该小区的工程师和客服可以参与'))
  await tap(page, '.submit')
  expect(page.querySelector('.text-error')).toBeUndefined()
  expect(mp.called('showToast').pop().title).toBe('只有该小区的住户、服务该小区的工程师和客服可以参与')
})

test('a resend of the same form reuses its Idempotency-Key; a changed form gets a new one', async () => {
  let calls = 0
  mp.route('POST', '/api/v1/estates/12/posts', () => (calls++ === 0 ? ['network'] : [201, created()]))
  const page = open()
  page.instance.onText({ detail: { value: '热水器显示 E1 是什么故障？' } })
  await tap(page, '.submit')
  expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
  await tap(page, '.submit')
  await flush()
  const [first, second] = posts()
  expect(second.header['Idempotency-Key']).toBe(first.header['Idempotency-Key'])
  page.instance.onText({ detail: { value: '另一个问题' } })
  expect(page.data.key).not.toBe(first.header['Idempotency-Key'])
})

test('photos still uploading hold the question back', async () => {
  const page = open()
  page.querySelector('.photos').instance.setData({ uploading: 1 }) // an upload in flight
  page.instance.onText({ detail: { value: '问题' } })
  await tap(page, '.submit')
  expect(mp.called('showToast').pop().title).toBe('照片还在上传，请稍候')
  expect(posts()).toEqual([])
})

test('without an estate: says so and leads to the estate tab', async () => {
  const page = open({})
  await flush()
  expect(text(page, '.page-state >>> .message')).toBe('没有指定小区')
  await tap(page, '.page-state >>> .action')
  expect(mp.called('switchTab')[0].url).toBe('/pages/estate/index')
})
