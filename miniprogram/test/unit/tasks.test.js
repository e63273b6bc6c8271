const { load, flush, text, tap, apiError } = require('../helpers')

beforeEach(() => wx.setStorageSync('linli.token', 'tok'))

const task = (id, extra = {}) => ({ id, title: `任务${id}`, description: '', kind: 'promotion', points: 100,
  deadline: '2026-12-20T10:00:00+00:00', total_limit: null, per_person_limit: 1, proof_required: ['text'],
  accepted: false, pending: 0, approved: 0, rejected: 0, remaining_for_me: 1, remaining_total: null, ...extra })
const TASKS = {
  items: [
    task(9, { title: '转发社区海报', total_limit: 50, remaining_total: 12 }),
    task(8, { kind: 'activity', accepted: true }),
    task(7, { kind: 'content', accepted: true, pending: 1 }),
    task(6, { kind: 'recruit', accepted: true, approved: 1, remaining_for_me: 0 }),
    task(5, { total_limit: 10, remaining_total: 0 }),
  ],
  next_cursor: 't1',
}
const submission = (id, status, extra = {}) => ({ id, task_id: 7, task_title: '写一篇使用体验', text: '已发到业主群', link: null, photos: [],
  status, reason: null, points: null, created_at: '2026-12-03T02:00:00+00:00', reviewed_at: null, ...extra })
const SUBMISSIONS = { items: [submission(21, 'pending'), submission(20, 'rejected', { reason: '截图看不清' }),
  submission(19, 'approved', { points: 110, task_id: 6, task_title: '邀请邻居' })], next_cursor: null }

function routeAll() {
  mp.route('GET', '/api/v1/ambassador/tasks', (req) => [200, req.query.get('cursor') === 't1' ? { items: [task(4)], next_cursor: null } : TASKS])
  mp.route('GET', '/api/v1/ambassador/submissions', 200, SUBMISSIONS)
}

async function open(options = {}) {
  const page = load('pages/tasks/index')
  page.instance.onLoad(options)
  await flush()
  return page
}

test('open tasks with points, deadline, places and where I stand', async () => {
  routeAll()
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(page.querySelectorAll('.task')).toHaveLength(5)
  expect(text(page, '.task .task-title')).toBe('转发社区海报')
  expect(text(page, '.task .points')).toBe('+100 积分')
  expect(text(page, '.task .kind')).toBe('推广')
  expect(text(page, '.task .small')).toBe('截止 12月20日 18:00 · 剩余名额 12')
  expect(page.querySelectorAll('.mine').map((m) => m.dom.textContent.trim())).toEqual(['可领取', '已领取', '审核中', '已完成', '名额已满'])
  expect(page.data.items.map((t) => t.kindText)).toEqual(['推广', '活动', '内容', '招募', '推广'])
  page.querySelectorAll('.task')[1].dispatchEvent('tap')
  await flush()
  expect(mp.called('navigateTo')[0].url).toBe('/pages/task/index?id=8')
})

test('more tasks at the bottom, with the cursor', async () => {
  routeAll()
  const page = await open()
  page.instance.onReachBottom()
  await flush()
  expect(page.data.items.map((t) => t.id)).toEqual([9, 8, 7, 6, 5, 4])
  expect(text(page, '.more.end')).toBe('没有更多了')
})

test('my submissions tab: review status, points paid and the rejection reason; a tap opens the task', async () => {
  routeAll()
  const page = await open()
  await tap(page, '.tab-submissions')
  expect(page.data.tab).toBe('submissions')
  expect(page.querySelectorAll('.submission')).toHaveLength(3)
  expect(page.querySelectorAll('.submission .status').map((s) => s.dom.textContent.trim())).toEqual(['待审核', '未通过', '已通过'])
  expect(text(page, '.submission .reason')).toBe('未通过原因：截图看不清')
  expect(page.querySelectorAll('.paid').map((p) => p.dom.textContent.trim())).toEqual(['· +110 积分'])
  page.querySelectorAll('.submission')[2].dispatchEvent('tap')
  await flush()
  expect(mp.called('navigateTo')[0].url).toBe('/pages/task/index?id=6')
  await tap(page, '.tab-tasks')
  expect(page.querySelectorAll('.task')).toHaveLength(5)
})

test('opened on the submissions tab', async () => {
  routeAll()
  const page = await open({ tab: 'submissions' })
  expect(mp.requests.map((r) => r.path)).toEqual(['/api/v1/ambassador/submissions'])
  expect(text(page, '.tab.active')).toBe('我的提交')
})

test('empty lists say what comes', async () => {
  mp.route('GET', '/api/v1/ambassador/tasks', 200, { items: [], next_cursor: null })
  mp.route('GET', '/api/v1/ambassador/submissions', 200, { items: [], next_cursor: null })
  const page = await open()
  expect(text(page, '.empty >>> .message')).toBe('暂时没有可领取的任务')
  await tap(page, '.tab-submissions')
  expect(text(page, '.empty >>> .message')).toBe('还没有提交过任务')
})

test('not an ambassador: the server says so; a failed load retries', async () => {
  let answer = [403, apiError('not_an_ambassador', '仅限服务代言人使用')]
  mp.route('GET', '/api/v1/ambassador/tasks', () => answer)
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('仅限服务代言人使用')
  answer = ['network']
  await tap(page, '.load-error >>> .action')
  expect(text(page, '.load-error >>> .message')).toBe('任务加载失败')
  answer = [200, TASKS]
  await tap(page, '.load-error >>> .action')
  expect(page.data.state).toBe('ready')
})

test('pull-down refresh and coming back read the list again', async () => {
  routeAll()
  const page = await open()
  mp.route('GET', '/api/v1/ambassador/tasks', 200, { items: [task(9, { accepted: true, pending: 1 })], next_cursor: null })
  page.instance.onShow()
  await flush()
  expect(page.data.items.map((t) => t.mine)).toEqual(['审核中'])
  await page.instance.onPullDownRefresh()
  expect(mp.called('stopPullDownRefresh')).toHaveLength(1)
})
