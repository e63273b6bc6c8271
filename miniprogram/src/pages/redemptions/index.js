// @ts-check
/**
 * 我的兑换: my redemptions, newest first (GET /api/v1/me/redemptions, cursor-paginated), each
 * with its status (待审核, 已通过, 已发放, 已拒绝, 已取消, 已作废), the reason of a refusal, the
 * delivery note or voucher code once fulfilled (a tap copies it), and the date a pending one is
 * voided if nobody decides. A pending redemption can be cancelled
 * (POST /api/v1/redemptions/{id}/cancel): its points and stock return.
 */
const api = require('../../utils/api')
const format = require('../../utils/format')
const dialog = require('../../utils/dialog')
const pagedList = require('../../utils/paged-list')

const BADGES = { pending: 'warn', approved: '', fulfilled: '', rejected: 'danger', cancelled: 'muted', voided: 'muted' }

/**
 * A redemption as the page shows it.
 * @param {any} r the RedemptionSchema shape
 */
function redemption(r) {
  const status = /** @type {keyof typeof BADGES} */ (r.status)
  return {
    id: r.id,
    name: r.reward.name,
    image: api.mediaUrl(r.reward.image_url),
    quantity: r.quantity,
    points: r.points,
    status: r.status,
    statusText: format.REDEMPTION_STATUS[status] || r.status,
    badge: BADGES[status] === undefined ? 'muted' : BADGES[status],
    when: format.datetime(r.created_at),
    reason: ['rejected', 'cancelled', 'voided'].includes(r.status) ? (r.reason || '') : '',
    note: r.status === 'fulfilled' ? (r.note || '') : '',
    decideBy: r.status === 'pending' ? format.datetime(r.decide_by, { time: false }) : '',
    cancellable: r.status === 'pending',
  }
}

Component({
  behaviors: [pagedList({ path: '/api/v1/me/redemptions', shape: redemption })],
  data: {
    /** @type {ReturnType<typeof redemption>[]} */
    items: [],
    /** @type {number | null} */
    cancelling: null,
  },
  methods: {
    /** Back from a notice or the rewards: statuses may have moved. */
    onShow() {
      if (this.data.state === 'ready' || this.data.state === 'empty') this.load()
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    async onCancel(e) {
      if (this.data.cancelling !== null) return
      const index = Number(e.currentTarget.dataset.index)
      const item = this.data.items[index]
      if (!item || !item.cancellable) return
      this.setData({ cancelling: item.id })
      try {
        const confirmed = await dialog.confirm({
          title: '取消兑换',
          content: `取消「${item.name}」的兑换？${item.points} 积分将退回您的账户。`,
          confirmText: '取消兑换',
          cancelText: '再想想',
        })
        if (!confirmed) return
        const updated = await api.request(`/api/v1/redemptions/${item.id}/cancel`, { method: 'POST' })
        this.setData({ [`items[${index}]`]: redemption(updated) })
        wx.showToast({ title: '已取消，积分已退回', icon: 'none' })
      } catch (err) {
        api.showError(err)
        // Decided meanwhile (409): show where it stands now.
        if (err instanceof api.ApiError && err.status === 409) this.load()
      } finally {
        this.setData({ cancelling: null })
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onCopyNote(e) {
      const item = this.data.items[Number(e.currentTarget.dataset.index)]
      if (item && item.note) wx.setClipboardData({ data: item.note })
    },

    onRewards() {
      wx.navigateTo({ url: '/pages/rewards/index' })
    },
  },
})
