// @ts-check
/**
 * 通知设置: which WeChat notices I can receive. GET /api/v1/me/subscriptions lists each purpose
 * (上门服务安排, 服务单进度, 积分兑换结果) with its name, what it is for and how many messages
 * the service may still send me. WeChat's rule: each "允许" in its dialog lets the service send
 * one message, so "再开启" asks again (subscribe.ask, from the tap as WeChat requires) and the
 * list is refreshed. The in-app inbox gets every notice whatever the quota.
 *
 * 不接收这些推荐: the estates' offer categories (优惠券, 社区活动, 积分好礼, 伙伴服务) with a switch
 * each (GET/PUT /api/v1/me/offer-mutes): on, I am not told of that category's new offers; the
 * estate's 优惠活动 still shows them.
 */
const api = require('../../utils/api')
const subscribe = require('../../utils/subscribe')
const reloadable = require('../../utils/reloadable')

Component({
  behaviors: [reloadable],
  data: {
    state: 'loading',
    /** @type {{ purpose: string, name: string, description: string, template_id: string, remaining: number }[]} */
    purposes: [],
    /** the purpose whose dialog is open */
    asking: '',
    /** @type {{ category: string, name: string, description: string, muted: boolean }[]} */
    mutes: [],
    savingMutes: false,
  },
  methods: {
    async load() {
      try {
        const [body, mutes] = await Promise.all([api.request('/api/v1/me/subscriptions'), api.request('/api/v1/me/offer-mutes')])
        this.setData({ purposes: body.purposes, mutes: mutes.items, state: body.purposes.length || mutes.items.length ? 'ready' : 'empty' })
      } catch (err) {
        this.loadFailed(err)
      }
    },

    /** "再开启": WeChat's dialog for this purpose, then the new quota. @param {WechatMiniprogram.TouchEvent} e */
    async onEnable(e) {
      const purpose = String(e.currentTarget.dataset.purpose)
      if (this.data.asking) return
      this.setData({ asking: purpose })
      try {
        const accepted = await subscribe.ask([purpose])
        wx.showToast({ title: accepted.length ? '已开启，可再收到 1 条' : '未开启', icon: 'none' })
        if (accepted.length) await this.load()
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ asking: '' })
      }
    },

    /** A category's switch: PUT the categories muted now; the switch goes back when refused. @param {WechatMiniprogram.SwitchChange} e */
    async onMute(e) {
      const category = String(e.currentTarget.dataset.category)
      const before = this.data.mutes
      const mutes = before.map((m) => (m.category === category ? { ...m, muted: e.detail.value } : m))
      this.setData({ mutes, savingMutes: true })
      try {
        const saved = await api.request('/api/v1/me/offer-mutes', {
          method: 'PUT', data: { muted: mutes.filter((m) => m.muted).map((m) => m.category) } })
        this.setData({ mutes: saved.items })
      } catch (err) {
        this.setData({ mutes: before })
        api.showError(err)
      } finally {
        this.setData({ savingMutes: false })
      }
    },
  },
})
