// @ts-check
/**
 * 代言人任务: two tabs. 任务: the open tasks I may take, newest first
 * (GET /api/v1/ambassador/tasks, cursor-paginated), each with its points, deadline and where I
 * stand (可领取, 已领取, 审核中, 已完成, 名额已满); a tap opens pages/task. 我的提交: my
 * submissions, newest first (GET /api/v1/ambassador/submissions), with the review status, the
 * points paid and any rejection reason.
 */
const api = require('../../utils/api')
const format = require('../../utils/format')
const pagedList = require('../../utils/paged-list')

const KINDS = { promotion: '推广', activity: '活动', content: '内容', recruit: '招募' }
const SUBMISSION_STATUS = { pending: '待审核', approved: '已通过', rejected: '未通过' }
const SUBMISSION_BADGES = { pending: 'warn', approved: '', rejected: 'danger' }
const PATHS = { tasks: '/api/v1/ambassador/tasks', submissions: '/api/v1/ambassador/submissions' }

/**
 * Where I stand on a task, in a word and a badge style.
 * @param {any} t the MyTaskSchema shape
 */
function standing(t) {
  if (t.pending > 0) return ['审核中', 'warn']
  if (t.remaining_for_me === 0 && t.approved > 0) return ['已完成', '']
  if (t.remaining_for_me === 0 || t.remaining_total === 0) return ['名额已满', 'muted']
  if (t.accepted) return ['已领取', '']
  return ['可领取', 'warn']
}

/** @param {any} t the MyTaskSchema shape */
function task(t) {
  const [mine, badge] = standing(t)
  return {
    id: t.id,
    title: t.title,
    kindText: KINDS[/** @type {keyof typeof KINDS} */ (t.kind)] || t.kind,
    points: t.points,
    deadline: format.datetime(t.deadline),
    places: t.remaining_total === null || t.remaining_total === undefined ? '' : `剩余名额 ${t.remaining_total}`,
    mine,
    badge,
  }
}

/** @param {any} s the SubmissionSchema shape */
function submission(s) {
  const status = /** @type {keyof typeof SUBMISSION_STATUS} */ (s.status)
  return {
    id: s.id,
    taskId: s.task_id,
    title: s.task_title || `任务 #${s.task_id}`,
    statusText: SUBMISSION_STATUS[status] || s.status,
    badge: SUBMISSION_BADGES[status] === undefined ? 'muted' : SUBMISSION_BADGES[status],
    points: s.status === 'approved' && s.points ? `+${s.points} 积分` : '',
    reason: s.status === 'rejected' ? (s.reason || '') : '',
    when: format.datetime(s.created_at),
  }
}

Component({
  behaviors: [pagedList()],
  data: {
    /** tasks | submissions */
    tab: 'tasks',
    errorMessage: '',
    /** @type {any[]} */
    items: [],
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      if (options && options.tab === 'submissions') this.setData({ tab: 'submissions' })
      this.load()
    },

    /** Back from a task: its standing may have changed. */
    onShow() {
      if (this.data.state === 'ready' || this.data.state === 'empty') this.load()
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onTab(e) {
      const tab = String(e.currentTarget.dataset.tab)
      if (tab === this.data.tab) return
      this.setData({ tab, state: 'loading', items: [], cursor: null })
      this.load()
    },

    listPath() {
      return PATHS[/** @type {keyof typeof PATHS} */ (this.data.tab)]
    },

    /** The tab the list is of: an answer for another tab (chosen meanwhile) is dropped. */
    listKey() {
      return this.data.tab
    },

    /** @param {any[]} items */
    listItems(items) {
      return this.data.tab === 'tasks' ? items.map(task) : items.map(submission)
    },

    /** @param {unknown} err */
    listError(err) {
      return { errorMessage: err instanceof api.ApiError && err.status === 403 ? err.message : '任务加载失败' }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onOpen(e) {
      const id = Number(e.currentTarget.dataset.id)
      if (id) wx.navigateTo({ url: `/pages/task/index?id=${id}` })
    },
  },
})
