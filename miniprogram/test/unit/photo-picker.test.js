const { load, flush, tap } = require('../helpers')

test('chosen photos are uploaded one by one and change carries their ids', async () => {
  let n = 0
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 't' })
  mp.route('POST', '/api/v1/uploads', () => { n += 1; return [201, { id: `img${n}.jpg`, url: `/api/v1/uploads/img${n}.jpg` }] })
  mp.chosenMedia = ['/tmp/a.jpg', '/tmp/b.jpg']
  const picker = load('components/photo-picker/index', { max: 3 })
  const changes = []
  picker.addEventListener('change', (e) => changes.push(e.detail.ids))
  await tap(picker, '.add')
  await flush(10)
  expect(mp.called('chooseMedia')[0].count).toBe(3)
  expect(changes.at(-1)).toEqual(['img1.jpg', 'img2.jpg'])
  expect(picker.querySelectorAll('.thumb')).toHaveLength(2)
  expect(picker.data.photos.map((p) => p.url)).toEqual([
    'http://127.0.0.1:5000/api/v1/uploads/img1.jpg', 'http://127.0.0.1:5000/api/v1/uploads/img2.jpg'])
  // one more fits, then the add tile goes away
  mp.chosenMedia = ['/tmp/c.jpg']
  await tap(picker, '.add')
  await flush(10)
  expect(picker.querySelector('.add')).toBeUndefined()
  picker.querySelectorAll('.remove')[0].dispatchEvent('tap')
  await flush()
  expect(changes.at(-1)).toEqual(['img2.jpg', 'img3.jpg'])
})

test('a refused upload is told and left out', async () => {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 't' })
  mp.route('POST', '/api/v1/uploads', 415, { error: { code: 'unsupported', message: '只支持 JPEG、PNG 或 WebP 图片', details: {} } })
  mp.chosenMedia = ['/tmp/a.gif']
  const picker = load('components/photo-picker/index')
  await tap(picker, '.add')
  await flush(10)
  expect(mp.called('showToast')[0].title).toBe('只支持 JPEG、PNG 或 WebP 图片')
  expect(picker.querySelectorAll('.thumb')).toHaveLength(0)
  expect(picker.data.uploading).toBe(0)
})
