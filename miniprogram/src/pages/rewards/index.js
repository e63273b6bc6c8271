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
const dialog = require('../../utils/dialog')
const form = require('../../utils/form')
const format = require('../../utils/format')
const subscribe = require('../../utils/subscribe')
const reloadable = require('../../utils/reloadable')

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
  behaviors: [reloadable],
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
    async load() {
      try {
        const [list, points] = await Promise.all([api.request('/api/v1/rewards'), api.request('/api/v1/me/points')])
        this.show(list.items, points.balance)
      } catch (err) {
        this.loadFailed(err)
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
        const confirmed = await dialog.confirm({
          title: '确认兑换',
          content: `使用 ${item.cost} 积分兑换「${item.name}」？`,
          confirmText: '兑换',
        })
        if (confirmed) await this.redeem(item)
      } finally {
        this.setData({ redeeming: null })
      }
    },

    /**
     * The redemption call, with the reward's Idempotency-Key: a retry after a lost answer or a
     * server failure sends the same key, so a redemption that did go through is answered again
     * instead of made twice; a refusal frees the key.
     * @param {{ id: number, name: string }} item
     */
    async redeem(item) {
      try {
        const redemption = await form.sendWithKey(this, `keys.${item.id}`, '/api/v1/redemptions', {
          method: 'POST', data: { reward_id: item.id, quantity: 1 },
        })
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
        api.showError(err)
        if (err instanceof api.ApiError && err.status === 409) this.load()
      }
    },

    onSubscribe() {
      return subscribe.offer(this, ['redemption'], () => '已开启兑换结果通知')
    },

    onRedemptions() {
      wx.navigateTo({ url: '/pages/redemptions/index' })
    },

    onPoints() {
      wx.navigateTo({ url: '/pages/points/index' })
    },
  },
})
