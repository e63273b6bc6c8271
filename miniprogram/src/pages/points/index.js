// @ts-check
/**
 * 我的积分: the balance, what is held for pending redemptions, what is promised but not yet
 * spendable (orders inside their refund window), what expires soon (GET /api/v1/me/points), and
 * the history (GET /api/v1/me/points/entries, newest first, cursor-paginated), each line named in
 * Chinese by its ledger kind. Links to the rewards and to my redemptions.
 */
const api = require('../../utils/api')
const format = require('../../utils/format')
const pagedList = require('../../utils/paged-list')

/** The ledger kinds a user's history shows (points.rules and points.ledger), in Chinese. */
const KINDS = {
  binding_rating: '绑定管家奖励',
  service_review: '服务评价奖励',
  referral_ambassador: '邀请奖励',
  referral_service: '邀请奖励',
  order_steward: '客户下单奖励',
  order_inviter: '邀请用户下单奖励',
  task: '代言人任务奖励',
  hold: '兑换奖品',
  release: '兑换退回',
  settle: '兑换完成',
  adjustment: '积分调整',
  reverse: '积分更正',
  expiry: '积分到期',
}

/**
 * A history line as the page shows it.
 * @param {any} e the EntrySchema shape
 */
function entry(e) {
  const title = KINDS[/** @type {keyof typeof KINDS} */ (e.kind)] || e.reason || '积分变动'
  return {
    id: e.id,
    title,
    detail: e.reason && e.reason !== title ? e.reason : '',
    when: format.datetime(e.created_at),
    amount: e.amount > 0 ? `+${e.amount}` : `${e.amount}`,
    credit: e.amount > 0,
  }
}

/** @param {any} s the PointsSummarySchema shape */
function summary(s) {
  const expiring = s.expiring || { points: 0, before: null }
  return {
    balance: s.balance,
    held: s.held,
    pending: s.pending,
    expiringPoints: expiring.points,
    expiringBefore: format.datetime(expiring.before, { time: false }),
  }
}

Component({
  behaviors: [pagedList({ path: '/api/v1/me/points/entries', shape: entry, items: 'entries' })],
  data: {
    /** @type {ReturnType<typeof summary> | null} */
    summary: null,
    /** @type {ReturnType<typeof entry>[]} */
    entries: [],
  },
  methods: {
    /** Back from redeeming: the balance may have changed. */
    onShow() {
      if (this.data.state === 'ready') this.load()
    },

    /** The summary and the first page of the history (a refresh keeps what is shown when it fails). */
    async load() {
      try {
        const [points, page] = await Promise.all([
          api.request('/api/v1/me/points'),
          api.request('/api/v1/me/points/entries'),
        ])
        this.setData({ summary: summary(points), entries: page.items.map(entry), cursor: page.next_cursor, state: 'ready' })
      } catch (err) {
        this.loadFailed(err)
      }
    },

    onRewards() {
      wx.navigateTo({ url: '/pages/rewards/index' })
    },

    onRedemptions() {
      wx.navigateTo({ url: '/pages/redemptions/index' })
    },
  },
})
