// @ts-check
/**
 * 申请成为服务代言人: the application form (POST /api/v1/ambassador/applications, fields as
 * ambassador.members.schemas: channel, real_name, phone, estate_ids 1–5 of my estates, statement,
 * invite_code for the referral channel), sent with an Idempotency-Key. A 422 shows under the
 * fields it names; afterwards, or when an application is already open, the page shows its status.
 * Opened with `?invite_code=` (from an invite), the referral channel comes filled in.
 */
const api = require('../../utils/api')
const form = require('../../utils/form')
const format = require('../../utils/format')
const reloadable = require('../../utils/reloadable')

const MAX_ESTATES = 5
const STATEMENT_MAX = 1000

/** What to fix, per field of a 422 validation_error (the server's field texts are not for users). */
const FIELD_HINTS = {
  channel: '请选择申请渠道',
  real_name: '请填写 2–32 个字的真实姓名',
  phone: '请填写正确的 11 位手机号',
  estate_ids: `请选择 1–${MAX_ESTATES} 个服务小区`,
  statement: `申请理由不能超过 ${STATEMENT_MAX} 字`,
  invite_code: '请填写邀请人的邀请码',
}

const CHANNELS = [
  { value: 'engineer', label: '工程师', hint: '已在邻里工作台激活的在职工程师' },
  { value: 'member', label: '会员', hint: '会员等级符合条件的品牌会员' },
  { value: 'referral', label: '代言人推荐', hint: '填写推荐您的服务代言人的邀请码' },
]

/** @param {any} app the AmbassadorApplicationSchema shape */
function submitted(app) {
  return { id: app.id, submitted: format.datetime(app.created_at) }
}

Component({
  behaviors: [reloadable],
  data: {
    /** loading | form | submitted | member | error */
    state: 'loading',
    /** @type {{ value: string, label: string, hint: string }[]} */
    channels: [],
    channel: '',
    channelHint: '',
    inviteCode: '',
    realName: '',
    phone: '',
    statement: '',
    statementMax: STATEMENT_MAX,
    /** @type {{ id: number, name: string, district: string, checked: boolean }[]} my estates */
    estates: [],
    /** @type {number[]} the chosen estates, in the order chosen (the first sets the city) */
    chosen: [],
    /** @type {Record<string, string>} */
    errors: {},
    sending: false,
    key: '',
    /** @type {{ id: number, submitted: string } | null} */
    application: null,
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      const code = decodeURIComponent(options.invite_code || '').trim().toUpperCase()
      this.setData({ inviteCode: code })
      this.load()
    },

    async load() {
      try {
        const [status, mine, me] = await Promise.all([
          api.request('/api/v1/ambassador/me'),
          api.request('/api/v1/me/estates'),
          api.request('/api/v1/me'),
        ])
        if (status.ambassador && status.ambassador.status !== 'removed') {
          this.setData({ state: 'member' })
          return
        }
        if (status.application && status.application.status === 'pending') {
          this.setData({ state: 'submitted', application: submitted(status.application) })
          return
        }
        const engineer = (me.roles || []).includes('engineer')
        const channels = CHANNELS.filter((c) => c.value !== 'engineer' || engineer)
        const channel = this.data.inviteCode ? 'referral' : engineer ? 'engineer' : 'member'
        this.setData({
          state: 'form', channels,
          phone: this.data.phone || me.phone || '',
          estates: mine.items.map((/** @type {any} */ r) => ({ id: r.estate.id, name: r.estate.name, district: r.estate.district, checked: false })),
          chosen: [],
        })
        this.pickChannel(channel)
      } catch (err) {
        this.setData({ state: 'error' })
      }
    },

    /** @param {string} value */
    pickChannel(value) {
      const found = CHANNELS.find((c) => c.value === value)
      this.setData({ channel: value, channelHint: found ? found.hint : '', 'errors.channel': '' })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onChannel(e) {
      this.pickChannel(String(e.currentTarget.dataset.value))
    },

    /** @param {WechatMiniprogram.Input} e */
    onInput(e) {
      const field = String(e.currentTarget.dataset.field)
      const names = { real_name: 'realName', phone: 'phone', statement: 'statement', invite_code: 'inviteCode' }
      const name = names[/** @type {keyof typeof names} */ (field)]
      if (name) this.setData({ [name]: e.detail.value, [`errors.${field}`]: '' })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onToggleEstate(e) {
      const index = Number(e.currentTarget.dataset.index)
      const estate = this.data.estates[index]
      if (!estate) return
      let chosen = this.data.chosen
      if (estate.checked) {
        chosen = chosen.filter((id) => id !== estate.id)
      } else {
        if (chosen.length >= MAX_ESTATES) {
          wx.showToast({ title: `最多选择 ${MAX_ESTATES} 个小区`, icon: 'none' })
          return
        }
        chosen = [...chosen, estate.id]
      }
      this.setData({ [`estates[${index}].checked`]: !estate.checked, chosen, 'errors.estate_ids': '' })
    },

    onJoinEstate() {
      wx.navigateTo({ url: '/pages/estates/index' })
    },

    async onSubmit() {
      if (this.data.sending) return
      this.setData({ sending: true, errors: {} })
      const d = this.data
      /** @type {Record<string, any>} */
      const body = { channel: d.channel, real_name: d.realName.trim(), phone: d.phone.trim(), estate_ids: d.chosen, statement: d.statement.trim() }
      if (d.channel === 'referral') body.invite_code = d.inviteCode.trim()
      try {
        const app = await form.sendWithKey(this, 'key', '/api/v1/ambassador/applications', { method: 'POST', data: body })
        this.setData({ state: 'submitted', application: submitted(app) })
        wx.pageScrollTo({ scrollTop: 0, duration: 0 })
      } catch (err) {
        this.failed(err)
      } finally {
        this.setData({ sending: false })
      }
    },

    /** @param {unknown} err */
    failed(err) {
      const known = err instanceof api.ApiError ? err : null
      // a validation_error's field texts are not for users: the field's hint instead
      const hint = (/** @type {string} */ field) => (known && known.code === 'validation_error' && FIELD_HINTS[/** @type {keyof typeof FIELD_HINTS} */ (field)]) || ''
      const errors = known && known.status === 422 ? form.fieldErrors(known, (field) => hint(field) || known.message) : {}
      if (Object.keys(errors).length) {
        this.setData({ errors })
        wx.showToast({ title: '请检查标红的内容', icon: 'none' })
      } else if (known && known.code === 'not_qualified') {
        this.setData({ 'errors.channel': known.message })
      } else {
        api.showError(err)
        if (known && (known.code === 'application_open' || known.code === 'already_ambassador')) this.load()
      }
    },

    onCentre() {
      if (getCurrentPages().length > 1) wx.navigateBack({ delta: 1 })
      else wx.redirectTo({ url: '/pages/ambassador/index' })
    },
  },
})
