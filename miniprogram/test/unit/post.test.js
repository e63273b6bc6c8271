const { load, flush, text, tap, apiError } = require('../helpers')

const RESIDENT = { id: 21, name: '邻居', badge: null, badge_label: null }
const ENGINEER = { id: 30, name: '王建国', badge: 'engineer', badge_label: '工程师' }
const OTHER_ENGINEER = { id: 31, name: '李师傅', badge: 'engineer', badge_label: '工程师' }

const POST = { id: 3, estate_id: 12, kind: 'question', text: '电梯维保一般多久一次？\n每次要停多久？',
  photos: ['/api/v1/uploads/a.jpg', '/api/v1/uploads/b.jpg', '/api/v1/uploads/c.jpg', '/api/v1/uploads/d.jpg'],
  status: 'published', status_label: '已发布', author: RESIDENT, answers_count: 2, comments_count: 1, likes_count: 4,
  accepted_answer_id: 9, review_id: null, created_at: '2026-12-04T02:00:00+00:00' }

function answer(id, author, extra = {}) {
  return { id, post_id: 3, author, text: `回答${id}`, status: 'published', status_label: '已发布',
    accepted: false, created_at: '2026-12-04T03:00:00+00:00', ...extra }
}
function comment(id, author, extra = {}) {
  return { id, post_id: 3, author, text: `评论${id}`, status: 'published', status_label: '已发布',
    created_at: '2026-12-04T04:00:00+00:00', ...extra }
}

function detail(extra = {}) {
  return { post: POST, answers: [answer(9, ENGINEER, { accepted: true, text: '每 15 天一次' }), answer(8, OTHER_ENGINEER)],
    comments: [comment(5, RESIDENT, { text: '谢谢' })], liked: false, can_answer: false, can_accept: true, ...extra }
}

beforeEach(() => mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 'tok', user: { id: 21 } }))

async function open(body = detail(), options = { id: '3' }) {
  mp.route('GET', '/api/v1/posts/3', 200, body)
  const page = load('pages/post/index')
  page.instance.onLoad(options)
  await flush(10)
  return page
}

const posted = () => mp.requests.filter((r) => r.method !== 'GET' && r.path !== '/api/v1/auth/wechat-login')

test('the asker sees the whole question and its photos, the accepted answer first with names and badges, the comments', async () => {
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(page.querySelector('.post >>> .text.clamp')).toBeUndefined()
  expect(text(page, '.post >>> .text')).toBe('提问电梯维保一般多久一次？ 每次要停多久？')
  expect(page.querySelector('.post').instance.data.photos).toHaveLength(4)
  expect(page.querySelector('.post >>> .more')).toBeUndefined()
  page.querySelectorAll('.post >>> .photo')[3].dispatchEvent('tap')
  await flush()
  expect(mp.called('previewImage')[0].current).toBe('http://127.0.0.1:5000/api/v1/uploads/d.jpg')
  await tap(page, '.post >>> .body')
  expect(mp.called('navigateTo')).toEqual([]) // already on the post
  const answers = page.querySelectorAll('.answer')
  expect(answers).toHaveLength(2)
  expect(text(page, '.answer-9 .accepted-mark')).toBe('已采纳')
  expect(text(page, '.answer-9 .answer-author >>> .name')).toBe('王建国')
  expect(text(page, '.answer-9 .answer-author >>> .role')).toBe('工程师')
  expect(text(page, '.answer-9 .answer-text')).toBe('每 15 天一次')
  expect(page.querySelector('.answer-9 .accept')).toBeUndefined()
  expect(page.querySelector('.answer-8 .accepted-mark')).toBeUndefined()
  expect(text(page, '.answer-8 .accept')).toBe('采纳这个回答')
  expect(text(page, '.comment-5 .comment-text')).toBe('谢谢')
  expect(text(page, '.comment-5 .comment-author >>> .name')).toBe('邻居')
  // a resident comments; only engineers and staff answer
  expect(page.querySelector('.modes')).toBeUndefined()
  expect(text(page, '.send')).toBe('发表评论')
})

test('the accepted answer comes first even when the server lists it later', async () => {
  const page = await open(detail({ answers: [answer(8, OTHER_ENGINEER), answer(9, ENGINEER, { accepted: true })] }))
  expect(page.data.answers.map((a) => a.id)).toEqual([9, 8])
})

test('the asker accepts another answer: it moves first, marked 已采纳', async () => {
  mp.route('POST', '/api/v1/answers/8/accept', 200, answer(8, OTHER_ENGINEER, { accepted: true }))
  const page = await open()
  await tap(page, '.answer-8 .accept')
  expect(posted().map((r) => r.path)).toEqual(['/api/v1/answers/8/accept'])
  expect(page.data.answers.map((a) => [a.id, a.accepted])).toEqual([[8, true], [9, false]])
  expect(text(page, '.answer-8 .accepted-mark')).toBe('已采纳')
  expect(page.querySelector('.answer-9 .accepted-mark')).toBeUndefined()
  expect(page.data.post.accepted_answer_id).toBe(8)
  expect(mp.called('showToast').pop().title).toBe('已采纳')
})

test('someone else sees no accept button', async () => {
  const page = await open(detail({ can_accept: false }))
  expect(page.querySelector('.accept')).toBeUndefined()
})

test('the like toggles on the post', async () => {
  mp.route('POST', '/api/v1/posts/3/like', 200, { post_id: 3, likes_count: 5, liked: true, created: true })
  mp.route('DELETE', '/api/v1/posts/3/like', 200, { post_id: 3, likes_count: 4, liked: false, removed: true })
  const page = await open()
  await tap(page, '.post >>> .like')
  expect(text(page, '.post >>> .like')).toBe('♥5')
  await tap(page, '.post >>> .like')
  expect(text(page, '.post >>> .like')).toBe('♡4')
  expect(posted().map((r) => r.method)).toEqual(['POST', 'DELETE'])
})

test('a comment: nothing empty is sent; published it is added and counted', async () => {
  mp.route('POST', '/api/v1/posts/3/comments', (req) => [201, comment(6, RESIDENT, { text: req.data.text })])
  const page = await open()
  await tap(page, '.send')
  expect(text(page, '.field-error')).toBe('请填写评论')
  expect(posted()).toEqual([])
  page.instance.onDraft({ detail: { value: '  好的，谢谢师傅  ' } })
  await tap(page, '.send')
  expect(posted()[0].data).toEqual({ text: '好的，谢谢师傅' })
  expect(text(page, '.comment-6 .comment-text')).toBe('好的，谢谢师傅')
  expect(page.data.draft).toBe('')
  expect(page.data.post.comments_count).toBe(2)
  expect(page.querySelector('.notice')).toBeUndefined()
  expect(mp.called('showToast').pop().title).toBe('评论已发布')
})

test('a held comment is said to wait for review, and is not counted', async () => {
  mp.route('POST', '/api/v1/posts/3/comments', 201, comment(6, RESIDENT, { text: '加微信聊', status: 'held', status_label: '已提交，审核通过后显示' }))
  const page = await open()
  page.instance.onDraft({ detail: { value: '加微信聊' } })
  await tap(page, '.send')
  expect(text(page, '.notice')).toBe('您的评论已提交，审核通过后显示，目前只有您能看到')
  expect(text(page, '.comment-6 .held-mark')).toBe('审核中：已提交，审核通过后显示')
  expect(page.data.post.comments_count).toBe(1)
  expect(mp.called('showToast').pop().title).toBe('已提交，审核通过后显示')
})

test('refused text and field errors are shown under the box; other failures in a toast', async () => {
  const page = await open()
  page.instance.onDraft({ detail: { value: '有人一起赌博吗' } })
  mp.route('POST', '/api/v1/posts/3/comments', 409, apiError('content_risky', '内容包含违规信息，无法发布，请修改后再试'))
  await tap(page, '.send')
  expect(text(page, '.field-error')).toBe('内容包含违规信息，无法发布，请修改后再试')
  expect(page.data.draft).toBe('有人一起赌博吗') // kept, to be edited
  mp.route('POST', '/api/v1/posts/3/comments', 422, apiError('validation_error', '评论须为 1–500 字', { fields: { text: ['评论须为 1–500 字'] } }))
  await tap(page, '.send')
  expect(text(page, '.field-error')).toBe('评论须为 1–500 字')
  page.instance.onDraft({ detail: { value: '改一下' } })
  await flush()
  expect(page.querySelector('.field-error')).toBeUndefined()
  mp.route('POST', '/api/v1/posts/3/comments', 'network')
  await tap(page, '.send')
  expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
  expect(page.data.sending).toBe(false)
})

test('an engineer of the estate answers by default, and may comment instead', async () => {
  mp.route('POST', '/api/v1/posts/3/answers', (req) => [201, answer(10, ENGINEER, { text: req.data.text })])
  mp.route('POST', '/api/v1/posts/3/comments', (req) => [201, comment(7, ENGINEER, { text: req.data.text })])
  const page = await open(detail({ can_answer: true, can_accept: false }))
  expect(text(page, '.mode-answer.active')).toBe('写回答')
  expect(text(page, '.send')).toBe('发布回答')
  await tap(page, '.send')
  expect(text(page, '.field-error')).toBe('请填写回答')
  page.instance.onDraft({ detail: { value: '按规定每 15 天一次' } })
  await tap(page, '.send')
  expect(posted()[0].path).toBe('/api/v1/posts/3/answers')
  expect(page.data.answers.map((a) => a.id)).toEqual([9, 8, 10])
  expect(text(page, '.answer-10 .answer-author >>> .role')).toBe('工程师')
  expect(page.data.post.answers_count).toBe(3)
  expect(mp.called('showToast').pop().title).toBe('回答已发布')
  await tap(page, '.mode-comment')
  expect(text(page, '.send')).toBe('发表评论')
  page.instance.onDraft({ detail: { value: '有问题随时找我' } })
  await tap(page, '.send')
  expect(posted()[1].path).toBe('/api/v1/posts/3/comments')
  // a refresh keeps the box as it was set
  page.instance.onPullDownRefresh()
  await flush(10)
  expect(page.data.mode).toBe('comment')
  expect(mp.called('stopPullDownRefresh')).toHaveLength(1)
})

test('an answer held for review says so', async () => {
  mp.route('POST', '/api/v1/posts/3/answers', 201, answer(10, ENGINEER, { status: 'held', status_label: '已提交，审核通过后显示' }))
  const page = await open(detail({ can_answer: true }))
  page.instance.onDraft({ detail: { value: '加微信私下交易' } })
  await tap(page, '.send')
  expect(text(page, '.notice')).toBe('您的回答已提交，审核通过后显示，目前只有您能看到')
  expect(text(page, '.answer-10 .held-mark')).toBe('审核中：已提交，审核通过后显示')
  expect(page.data.post.answers_count).toBe(2)
})

test('my question under review: marked, and no box to reply until it is published', async () => {
  const held = { ...POST, status: 'held', status_label: '已提交，审核通过后显示', answers_count: 0, comments_count: 0 }
  const page = await open(detail({ post: held, answers: [], comments: [], can_accept: false }))
  expect(text(page, '.post >>> .held')).toBe('审核中：已提交，审核通过后显示，目前只有您能看到')
  expect(text(page, '.unpublished')).toBe('审核通过后，邻居和工程师才能看到并回复这条动态。')
  expect(page.querySelector('.composer')).toBeUndefined()
  expect(text(page, '.no-answers')).toBe('暂无回答，服务该小区的工程师会尽快回答')
  expect(text(page, '.no-comments')).toBe('还没有评论')
})

test('a shared review has no answers section', async () => {
  const review = { ...POST, kind: 'review', text: '师傅很专业', photos: [], accepted_answer_id: null, review_id: 4 }
  const page = await open(detail({ post: review, answers: [], can_accept: false }))
  expect(text(page, '.post >>> .text')).toBe('服务评价师傅很专业')
  expect(page.querySelector('.answers')).toBeUndefined()
  expect(page.querySelector('.composer')).toBeTruthy()
})

test('a post that is gone says so without a pointless retry; a network failure retries', async () => {
  mp.route('GET', '/api/v1/posts/3', 404, apiError('post_not_found', '帖子不存在'))
  let page = load('pages/post/index')
  page.instance.onLoad({ id: '3' })
  await flush(10)
  expect(text(page, '.page-state >>> .message')).toBe('帖子不存在')
  expect(page.querySelector('.page-state >>> .action')).toBeUndefined()

  mp.route('GET', '/api/v1/posts/3', 'network')
  page = load('pages/post/index')
  page.instance.onLoad({ id: '3' })
  await flush(10)
  expect(text(page, '.page-state >>> .message')).toBe('网络连接失败，请检查网络后重试')
  mp.route('GET', '/api/v1/posts/3', 200, detail())
  await tap(page, '.page-state >>> .action')
  await flush()
  expect(page.data.state).toBe('ready')
})

test('no id: nothing to show, nothing asked', async () => {
  const page = load('pages/post/index')
  page.instance.onLoad({})
  await flush()
  expect(text(page, '.page-state >>> .message')).toBe('没有找到这条动态')
  expect(mp.requests).toEqual([])
})
