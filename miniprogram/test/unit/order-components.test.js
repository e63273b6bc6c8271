const { load, flush, text, tap } = require('../helpers')

describe('order-engineer', () => {
  test('photo, name and note; a tap opens the engineer\'s page', async () => {
    const card = load('components/order-engineer/index', { engineer: { id: 3, name: '王建国', photo_url: '/api/v1/uploads/w.jpg' }, note: '为您服务的工程师' })
    expect(card.data.photo).toBe('http://127.0.0.1:5000/api/v1/uploads/w.jpg')
    expect(text(card, '.name')).toBe('王建国师傅')
    expect(text(card, '.note')).toBe('为您服务的工程师')
    await tap(card, '.order-engineer')
    expect(mp.called('navigateTo')[0].url).toBe('/pages/engineer/index?id=3')
  })

  test('without a photo: the initial', () => {
    const card = load('components/order-engineer/index', { engineer: { id: 3, name: '李四', photo_url: null } })
    expect(card.data.photo).toBe('')
    expect(text(card, '.initial')).toBe('李')
    expect(card.querySelector('.note')).toBeUndefined()
  })
})

describe('order-timeline', () => {
  const base = { requested_at: '2026-12-04T02:00:00+00:00', assigned_at: null, scheduled_for: null, completed_at: null,
    cancelled_at: null, cancel_reason: null, engineer: null }
  const steps = (order) => load('components/order-timeline/index', { order }).data.steps

  test('a completed order: every step done, the last one current', () => {
    const done = steps({ ...base, status: 'completed', assigned_at: '2026-12-04T02:00:00+00:00', scheduled_for: '2026-12-05T01:00:00+00:00',
      completed_at: '2026-12-05T03:00:00+00:00', engineer: { id: 3, name: '王建国' } })
    expect(done.map((s) => [s.key, s.done, s.current])).toEqual([
      ['requested', true, false], ['assigned', true, false], ['scheduled', true, false], ['completed', true, true]])
    expect(done[3].time).toBe('12月5日 11:00')
    expect(done[2].detail).toBe('上门时间 12月5日 09:00')
  })

  test('cancelled before anyone was assigned: the request, then the cancellation with its reason', () => {
    const cancelled = steps({ ...base, status: 'cancelled', cancelled_at: '2026-12-04T03:00:00+00:00', cancel_reason: '重复提交了申请' })
    expect(cancelled.map((s) => [s.label, s.time, s.detail, s.current])).toEqual([
      ['提交申请', '12月4日 10:00', '', false], ['已取消', '12月4日 11:00', '原因：重复提交了申请', true]])
  })

  test('a new request waits for an engineer: the steps ahead are grey', async () => {
    const timeline = load('components/order-timeline/index', { order: { ...base, status: 'requested' } })
    await flush()
    expect(timeline.querySelectorAll('.todo')).toHaveLength(3)
    expect(text(timeline, '.current .label')).toBe('提交申请')
  })
})

describe('review-item', () => {
  const review = { id: 9, rating: 4, text: '准时', photos: ['/api/v1/uploads/a.jpg', '/api/v1/uploads/b.jpg'],
    created_at: '2026-12-01T02:00:00+00:00', estate_name: '翠竹苑', reviewer_name: '陈**' }

  test('the masked name, stars, day, text, estate and photos (a tap previews them)', async () => {
    const item = load('components/review-item/index', { review })
    expect(text(item, '.reviewer')).toBe('陈**')
    expect(text(item, '.when')).toBe('12月1日')
    expect(text(item, '.text')).toBe('准时')
    expect(text(item, '.estate')).toBe('翠竹苑')
    expect(item.querySelector('.stars').instance.data.value).toBe(4)
    expect(item.data.photos).toEqual(['http://127.0.0.1:5000/api/v1/uploads/a.jpg', 'http://127.0.0.1:5000/api/v1/uploads/b.jpg'])
    item.querySelectorAll('.photo')[1].dispatchEvent('tap')
    await flush()
    expect(mp.called('previewImage')[0].current).toBe('http://127.0.0.1:5000/api/v1/uploads/b.jpg')
    // the stars are for reading
    item.querySelectorAll('.stars >>> .star')[0].dispatchEvent('tap')
    await flush()
    expect(item.querySelector('.stars').instance.data.value).toBe(4)
  })

  test('stars only: no text, no photos', () => {
    const item = load('components/review-item/index', { review: { ...review, text: '', photos: [] } })
    expect(item.querySelector('.text')).toBeUndefined()
    expect(item.querySelector('.photo')).toBeUndefined()
  })
})
