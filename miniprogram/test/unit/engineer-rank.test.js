const { load, flush, text, tap } = require('../helpers')

const ROW = { rank: 3, engineer: { id: 4, name: '李师傅', photo_url: null }, score: 36.75, first_service_at: null,
  components: { bayes_rating: 4.5, avg_rating: null, ratings_count: 0, likes: 1, complaints: 0, completed: 2,
    recent_completed: 2, quality: 0.6125, volume: 0.1 } }

test('an engineer without reviews or photo: initial, place, score, figures; a tap opens the engineer', async () => {
  const row = load('components/engineer-rank/index', { item: ROW, windowDays: 30 })
  await flush()
  expect(text(row, '.place')).toBe('3')
  expect(row.querySelector('.place.top3')).toBeTruthy()
  expect(text(row, '.initial')).toBe('李')
  expect(row.querySelector('.photo.initial')).toBeTruthy()
  expect(text(row, '.score')).toBe('综合 36.8')
  expect(text(row, '.rating')).toBe('暂无评分')
  expect(text(row, '.completed')).toBe('近30天完成 2 单')
  expect(text(row, '.likes')).toBe('获赞 1')
  await tap(row, '.rank-row')
  expect(mp.called('navigateTo')[0].url).toBe('/pages/engineer/index?id=4')
})

test('below the podium: a plain place; with a photo, the photo', async () => {
  const row = load('components/engineer-rank/index', { item: { ...ROW, rank: 7, engineer: { id: 5, name: '赵工', photo_url: '/api/v1/uploads/z.jpg' },
    components: { ...ROW.components, avg_rating: 4.25, ratings_count: 4 } } })
  await flush()
  expect(row.querySelector('.place.top3')).toBeUndefined()
  expect(row.querySelector('.initial')).toBeUndefined()
  expect(row.data.photo).toBe('http://127.0.0.1:5000/api/v1/uploads/z.jpg')
  expect(text(row, '.rating')).toBe('评分 4.3（4 条）')
})
