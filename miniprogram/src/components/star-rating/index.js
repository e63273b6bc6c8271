// @ts-check
/** 1–5 stars; a tap sets the value (unless readonly) and triggers `change` {value}. */
Component({
  properties: {
    value: { type: Number, value: 0 },
    readonly: { type: Boolean, value: false },
  },
  data: {
    labels: ['很差', '较差', '一般', '满意', '非常满意'],
  },
  methods: {
    /** @param {WechatMiniprogram.TouchEvent} e */
    onTap(e) {
      if (this.data.readonly) return
      const value = Number(e.currentTarget.dataset.value)
      this.setData({ value })
      this.triggerEvent('change', { value })
    },
  },
})
