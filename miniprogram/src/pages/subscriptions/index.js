// @ts-check
/**
 * 通知设置: which WeChat notices I can receive. GET /api/v1/me/subscriptions lists each purpose
 * (上门服务安排, 服务单进度, 积分兑换结果) with its name, what it is for and how many messages
 * the service may still send me. WeChat's rule: each "允许" in its dialog lets the service send
 * one message, so "再开启" asks again (subscribe.ask, from the tap as WeChat requires) and the
 * list is refreshed. The in-app inbox gets every notice whatever the quota.
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
  },
  methods: {
    async load() {
      try {
        const body = await api.request('/api/v1/me/subscriptions')
        this.setData({ purposes: body.purposes, state: body.purposes.length ? 'ready' : 'empty' })
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
  },
})
