// @ts-check
/** Loading, empty and error states of a page or a section, with an optional action (retry). */
Component({
  properties: {
    /** loading | empty | error | ready (ready shows nothing) */
    state: { type: String, value: 'loading' },
    message: { type: String, value: '' },
    hint: { type: String, value: '' },
    actionText: { type: String, value: '' },
  },
  methods: {
    onAction() {
      this.triggerEvent('action')
    },
  },
})
