const { load, flush, text, tap, apiError } = require('../helpers')

beforeEach(() => wx.setStorageSync('linli.token', 'tok'))

const TASK = { id: 8, title: '转发社区海报', description: '把海报转发到业主群\n并截图', kind: 'promotion', points: 100,
  deadline: '2026-12-20T10:00:00+00:00', total_limit: 50, per_person_limit: 1, proof_required: ['text', 'photos'],
  accepted: false, pending: 0, approved: 0, rejected: 0, remaining_for_me: 1, remaining_total: 12 }
const submission = (id, status, extra = {}) => ({ id, task_id: 8, task_title: '转发社区海报', text: '已转发', link: null,
  photos: ['AbCdEfGhIjKlMnOpQrStUvWx.jpg'], status, reason: null, points: null, created_at: '2026-12-03T02:00:00+00:00', reviewed_at: null, ...extra })

function routeTask(t = TASK, subs = []) {
  mp.route('GET', '/api/v1/ambassador/tasks/8', 200, t)
  mp.route('GET', '/api/v1/ambassador/submissions', (req) => [200, { items: req.query.get('task_id') === '8' ? subs : [], next_cursor: null }])
}

async function open(id = '8') {
  const page = load('pages/task/index')
  page.instance.onLoad({ id })
  await flush()
  return page
}

const submits = () => mp.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/ambassador/tasks/8/submissions')

test('the task with what it pays, its deadline, limits and the proof it needs; taking it shows the form', async () => {
  routeTask()
  mp.route('POST', '/api/v1/ambassador/tasks/8/accept', 200, { ...TASK, accepted: true })
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(mp.requests.find((r) => r.path === '/api/v1/ambassador/submissions').query.get('task_id')).toBe('8')
  expect(text(page, '.title')).toBe('转发社区海报')
  expect(text(page, '.points')).toBe('+100 积分')
  expect(text(page, '.facts')).toBe('截止 12月20日 18:00 · 每人可完成 1 次 · 剩余名额 12')
  expect(text(page, '.proofs')).toBe('需提交：文字说明、照片')
  expect(page.data.task.description).toBe('把海报转发到业主群\n并截图')
  expect(page.querySelector('.proof-form')).toBeUndefined()
  await tap(page, '.accept')
  expect(mp.requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual(['/api/v1/ambassador/tasks/8/accept'])
  expect(page.querySelector('.accept')).toBeUndefined()
  expect(page.querySelector('.proof-form')).toBeTruthy()
  expect(page.querySelectorAll('.required').map((r) => r.dom.textContent)).toEqual(['（必填）', '（必填）'])
})

test('proof with text and photos goes with an Idempotency-Key; then it waits for review', async () => {
  routeTask({ ...TASK, accepted: true })
  let n = 0
  mp.route('POST', '/api/v1/uploads', () => { n += 1; return [201, { id: `img${n}.jpg`, url: `/api/v1/uploads/img${n}.jpg` }] })
  mp.route('POST', '/api/v1/ambassador/tasks/8/submissions', 201, submission(30, 'pending'))
  const page = await open()
  page.querySelector('.proof-text').dispatchEvent('input', { detail: { value: ' 已转发到 3 个群 ' } })
  mp.chosenMedia = ['/tmp/a.jpg', '/tmp/b.jpg']
  await tap(page, '.photo-picker >>> .add')
  await flush(10)
  expect(page.data.photos).toEqual(['img1.jpg', 'img2.jpg'])
  routeTask({ ...TASK, accepted: true, pending: 1 }, [submission(30, 'pending')])
  await tap(page, '.submit-proof')
  await flush()
  expect(submits()).toHaveLength(1)
  expect(submits()[0].data).toEqual({ text: '已转发到 3 个群', photos: ['img1.jpg', 'img2.jpg'] })
  expect(submits()[0].header['Idempotency-Key']).toMatch(/^[a-z0-9]+-[a-z0-9]+$/)
  expect(mp.called('showToast').pop().title).toBe('已提交，等待审核')
  expect(text(page, '.standing-text')).toBe('已提交，等待审核')
  expect(page.querySelector('.proof-form')).toBeUndefined()
  expect(page.querySelectorAll('.submission')).toHaveLength(1)
  expect(page.data.text).toBe('')
})

test('a 422 names the missing proof in Chinese; the key is fresh for the next try', async () => {
  routeTask({ ...TASK, accepted: true })
  mp.route('POST', '/api/v1/ambassador/tasks/8/submissions', 422, apiError('validation_error', '提交的证明材料不完整或有误',
    { fields: { photos: ['required by this task'], text: ['required by this task'] } }))
  const page = await open()
  await tap(page, '.submit-proof')
  expect(text(page, '.error-photos')).toBe('请上传 1–9 张您本人上传的照片')
  expect(text(page, '.error-text-field')).toBe('请填写文字说明（不超过 2000 字）')
  expect(mp.called('showToast').pop().title).toBe('提交的证明材料不完整或有误')
  page.querySelector('.proof-text').dispatchEvent('input', { detail: { value: '好了' } })
  await flush()
  expect(page.querySelector('.error-text-field')).toBeUndefined()
  await tap(page, '.submit-proof')
  expect(submits()[1].header['Idempotency-Key']).not.toBe(submits()[0].header['Idempotency-Key'])
})

test('a lost answer is retried with the same key', async () => {
  routeTask({ ...TASK, accepted: true })
  let answer = ['network']
  mp.route('POST', '/api/v1/ambassador/tasks/8/submissions', () => answer)
  const page = await open()
  page.querySelector('.proof-text').dispatchEvent('input', { detail: { value: '已转发' } })
  await tap(page, '.submit-proof')
  answer = [201, submission(30, 'pending')]
  await tap(page, '.submit-proof')
  expect(submits()[1].header['Idempotency-Key']).toBe(submits()[0].header['Idempotency-Key'])
  expect(submits()[1].data).toEqual({ text: '已转发' })
})

test('my submissions with the review status, the rejection reason, the points paid and the photos', async () => {
  routeTask({ ...TASK, accepted: true, rejected: 1, approved: 0 }, [
    submission(31, 'rejected', { reason: '截图看不清', link: 'https://example.com/post/1' }),
    submission(30, 'approved', { points: 110, photos: ['/api/v1/uploads/BbCdEfGhIjKlMnOpQrStUvWx.jpg', 'https://cdn.example.com/x.jpg'] }),
  ])
  const page = await open()
  expect(page.querySelector('.proof-form')).toBeTruthy()
  expect(page.querySelectorAll('.submission .status').map((s) => s.dom.textContent.trim())).toEqual(['未通过', '已通过'])
  expect(text(page, '.submission .reason')).toBe('未通过原因：截图看不清')
  expect(page.querySelectorAll('.paid').map((p) => p.dom.textContent.trim())).toEqual(['· +110 积分'])
  expect(page.data.submissions[0].photos).toEqual(['http://127.0.0.1:5000/api/v1/uploads/AbCdEfGhIjKlMnOpQrStUvWx.jpg'])
  expect(page.data.submissions[1].photos).toEqual(['http://127.0.0.1:5000/api/v1/uploads/BbCdEfGhIjKlMnOpQrStUvWx.jpg', 'https://cdn.example.com/x.jpg'])
  await tap(page, '.sub-link')
  expect(mp.called('setClipboardData')[0].data).toBe('https://example.com/post/1')
  page.querySelectorAll('.sub-photo')[0].dispatchEvent('tap')
  await flush()
  expect(mp.called('previewImage')[0].urls).toEqual(page.data.submissions[0].photos)
})

test('done, past the deadline, or full: no form and a word why', async () => {
  routeTask({ ...TASK, accepted: true, approved: 1, remaining_for_me: 0 })
  let page = await open()
  expect(text(page, '.standing-text')).toBe('您已完成该任务')
  routeTask({ ...TASK, deadline: '2026-01-01T00:00:00+00:00' })
  page = await open()
  expect(text(page, '.standing-text')).toBe('任务已截止')
  expect(page.querySelector('.accept')).toBeUndefined()
  routeTask({ ...TASK, remaining_total: 0 })
  page = await open()
  expect(text(page, '.standing-text')).toBe('完成名额已满')
})

test('a refusal at submit (409) is told and the task is read again', async () => {
  routeTask({ ...TASK, accepted: true })
  mp.route('POST', '/api/v1/ambassador/tasks/8/submissions', 409, apiError('task_closed', '任务已结束'))
  const page = await open()
  routeTask({ ...TASK, accepted: true, deadline: '2026-01-01T00:00:00+00:00' })
  await tap(page, '.submit-proof')
  await flush()
  expect(mp.called('showToast').pop().title).toBe('任务已结束')
  expect(text(page, '.standing-text')).toBe('任务已截止')
})

test('a task outside my audience or unknown: the server says so; no id: nothing is asked', async () => {
  mp.route('GET', '/api/v1/ambassador/tasks/8', 403, apiError('task_not_in_audience', '该任务不面向您'))
  mp.route('GET', '/api/v1/ambassador/submissions', 200, { items: [], next_cursor: null })
  let page = await open()
  expect(text(page, '.load-error >>> .message')).toBe('该任务不面向您')
  expect(text(page, '.load-error >>> .action')).toBe('重试')
  mp.requests = []
  page = await open('')
  expect(text(page, '.load-error >>> .message')).toBe('没有找到这个任务')
  expect(page.querySelector('.load-error >>> .action')).toBeFalsy()
  expect(mp.requests).toEqual([])
})
