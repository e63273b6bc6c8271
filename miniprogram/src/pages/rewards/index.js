// @ts-check
/**
 * 积分兑换: the rewards I can redeem now (GET /api/v1/rewards: on offer and for my level,
 * cheapest first) beside my balance (GET /api/v1/me/points), each saying whether I can afford it
 * and what is left. Redeeming asks for confirmation, then POST /api/v1/redemptions with an
 * Idempotency-Key: a second tap while the first is in flight does nothing, and a retry after a
 * lost answer reuses the key, so the server replays the first redemption instead of making
 * another. The answer says whether it waits for approval or was approved at once; a tap offers
 * the redemption notices (subscribe message).
 */
const api = require('../../utils/api')
const format = require('../../utils/format')
const subscribe = require('../../utils/subscribe')

/** A fresh Idempotency-Key (printable, ≤ 128 characters). */
function newKey() {
  return `redeem-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`
}

/**
 * A reward as the page shows it, for a balance.
 * @param {any} r the RewardSchema shape
 * @param {number} balance
 */
function reward(r, balance) {
  const soldOut = r.stock === 0
  const short = Math.max(0, r.cost - balance)
  const notes = []
  if (r.stock !== null && r.stock !== undefined && r.stock > 0) notes.push(`剩 ${r.stock} 件`)
  if (r.per_user_limit) notes.push(`每人限兑 ${r.per_user_limit} 件`)
  if (r.ends_at) notes.push(`${format.datetime(r.ends_at)} 截止`)
  return {
    id: r.id,
    name: r.name,
    description: r.description || '',
    image: api.mediaUrl(r.image_url),
    cost: r.cost,
    soldOut,
    affordable: !short,
    note: notes.join(' · '),
    action: soldOut ? '已兑完' : short ? `还差 ${short} 积分` : '兑换',
  }
}

Component({
  data: {
    state: 'loading',
    balance: 0,
    /** @type {Record<string, string>} the Idempotency-Key of a redemption whose answer was lost, by reward id */
    keys: {},
    /** @type {ReturnType<typeof reward>[]} */
    rewards: [],
    /** @type {number | null} the reward being redeemed */
    redeeming: null,
    /** @type {{ id: number, name: string, points: number, status: string, statusText: string, approved: boolean } | null} */
    result: null,
    subscribed: false,
  },
  methods: {
    onLoad() {
      this.load()
    },

    async onPullDownRefresh() {
      await this.load()
      wx.stopPullDownRefresh()
    },

    onRetry() {
      this.setData({ state: 'loading' })
      this.load()
    },

    async load() {
      try {
        const [list, points] = await Promise.all([api.request('/api/v1/rewards'), api.request('/api/v1/me/points')])
        this.show(list.items, points.balance)
      } catch (err) {
        if (this.data.state === 'loading') this.setData({ state: 'error' })
        else api.showError(err)
      }
    },

    /**
     * @param {any[]} items
     * @param {number} balance
     */
    show(items, balance) {
      this.setData({
        balance, rewards: items.map((r) => reward(r, balance)),
        state: items.length ? 'ready' : 'empty',
      })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    async onRedeem(e) {
      if (this.data.redeeming !== null) return
      const item = this.data.rewards.find((r) => r.id === Number(e.currentTarget.dataset.id))
      if (!item || item.soldOut || !item.affordable) return
      this.setData({ redeeming: item.id })
      try {
        const confirmed = await new Promise((resolve) => {
          wx.showModal({
            title: '确认兑换',
            content: `使用 ${item.cost} 积分兑换「${item.name}」？`,
            confirmText: '兑换',
            success: (res) => resolve(res.confirm),
            fail: () => resolve(false),
          })
        })
        if (confirmed) await this.redeem(item)
      } finally {
        this.setData({ redeeming: null })
      }
    },

    /**
     * The redemption call, with its Idempotency-Key.
     * @param {{ id: number, name: string }} item
     */
    async redeem(item) {
      const key = this.data.keys[item.id] || newKey()
      this.setData({ [`keys.${item.id}`]: key })
      try {
        const redemption = await api.request('/api/v1/redemptions', {
          method: 'POST', data: { reward_id: item.id, quantity: 1 }, header: { 'Idempotency-Key': key },
        })
        this.setData({ [`keys.${item.id}`]: '' })
        this.setData({
          result: {
            id: redemption.id, name: redemption.reward.name, points: redemption.points, status: redemption.status,
            statusText: format.REDEMPTION_STATUS[/** @type {keyof typeof format.REDEMPTION_STATUS} */ (redemption.status)] || redemption.status,
            approved: redemption.status === 'approved',
          },
        })
        wx.pageScrollTo({ scrollTop: 0, duration: 200 })
        this.load()
      } catch (err) {
        // No answer (network) or a server failure: the retry sends the same key, so a redemption
        // that did go through is answered again instead of made twice. A refusal frees the key.
        const unknown = err instanceof api.ApiError && (err.status === 0 || err.status >= 500)
        if (!unknown) this.setData({ [`keys.${item.id}`]: '' })
        api.showError(err)
        if (err instanceof api.ApiError && err.status === 409) this.load()
      }
    },

    async onSubscribe() {
      try {
        const accepted = await subscribe.ask(['redemption'])
        this.setData({ subscribed: this.data.subscribed || accepted.length > 0 })
        wx.showToast({ title: accepted.length ? '已开启兑换结果通知' : '未开启通知', icon: 'none' })
      } catch (err) {
        api.showError(err)
      }
    },

    onRedemptions() {
      wx.navigateTo({ url: '/pages/redemptions/index' })
    },

    onPoints() {
      wx.navigateTo({ url: '/pages/points/index' })
    },
  },
})
