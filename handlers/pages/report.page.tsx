import { Hono, type Context } from 'hono';
import { findCaseByTrackingCode } from '../../db/repositories/cases.repository.js';
import { scopedKey } from '../../db/repositories/idempotency.repository.js';
import { isTextFault, keptFileName } from '../../src/domain/text.js';
import { normalizeTrackingCode, onlyTrackingCode } from '../../src/domain/tracking-code.js';
import { AppError } from '../../src/errors.js';
import { fingerprint, type ReportInput } from '../../src/intake/accept-report.js';
import { refusalWords } from '../../src/intake/intake-gate.js';
import { reporterFields } from '../../src/intake/anonymity.js';
import { MAX_PHOTO_BYTES, MAX_PHOTOS, MAX_TEXT_CHARS } from '../../src/intake/limits.js';
import { insideDistrict } from '../../src/pipeline/extract.js';
import { localDate } from '../../src/stats/stats.js';
import { CsrfField, errorId, FieldError } from '../../src/web/layout.js';
import { csrfProtection } from '../../src/web/csrf.js';
import { loadSession } from '../../src/web/session.js';
import { filePickerAttrs, type Lang, type Texts } from '../../src/web/i18n.js';
import { pageContext, renderPage } from '../../src/web/render.js';
import type { AppEnv } from '../app-env.js';
import { acceptPublicReport, IntakeLimited } from '../intake-gate.js';
import { reportFormSchema, TRACKING_CODE_TEXT } from '../reports.routes.js';
import { IMAGE_TYPES, MAX_JSON_BYTES, readOversizedForm, readUploads } from '../uploads.js';
import { readForm, stringField, withLineFeeds } from './resident-form.js';

/**
 * The resident's report form (`/`): text, photos, a place (address, "use my
 * location", and a map pin when a tile server is configured), optional name
 * and phone, the anonymous box. It works without JavaScript; report.js only
 * adds the character counter, the map and a guard against double clicks.
 *
 * The same rules as POST /api/v1/reports (the form schema is shared); the
 * errors are shown next to their field in the visitor's language, and every
 * typed value comes back. A double submit (or going back and submitting
 * again) returns the case already made instead of a second one.
 */

type Field = 'text' | 'address' | 'location' | 'name' | 'phone' | 'photos' | 'form';

const T: Texts<
  | 'title'
  | 'intro'
  | 'text'
  | 'textHint'
  | 'counter'
  | 'counterLimit'
  | 'photos'
  | 'photosHint'
  | 'photosAgain'
  | 'camera'
  | 'place'
  | 'address'
  | 'addressHint'
  | 'locate'
  | 'locating'
  | 'located'
  | 'noLocation'
  | 'clearLocation'
  | 'locationCleared'
  | 'mapHint'
  | 'haveLocation'
  | 'outsideLocation'
  | 'outsideLocationNoMap'
  | 'outsidePin'
  | 'errLocationOutside'
  | 'zoomIn'
  | 'zoomOut'
  | 'pin'
  | 'contact'
  | 'contactHint'
  | 'name'
  | 'phone'
  | 'anonymous'
  | 'anonymousHint'
  | 'share'
  | 'submit'
  | 'sending'
  | 'fix'
  | 'notSent'
  | 'errTextEmpty'
  | 'errTextLong'
  | 'errTextIsCode'
  | 'followCode'
  | 'errChars'
  | 'errAddress'
  | 'errName'
  | 'errPhone'
  | 'errLocation'
  | 'errPhotoCount'
  | 'errPhotoSize'
  | 'errPhotoEmpty'
  | 'errPhotoType'
  | 'errPhotoSizeOf'
  | 'errPhotoEmptyOf'
  | 'errPhotoTypeOf'
  | 'errPhotosTooLarge'
  | 'errKey'
  | 'errTooMany'
  | 'errExpired'
  | 'doneTitle'
  | 'doneLead'
  | 'doneKeep'
  | 'doneFollow'
  | 'doneAnother'
  | 'optional'
> = {
  zh: {
    title: '举报环境问题',
    intro: '发现排污、倾倒垃圾或危险废物、乱用农药、噪声扰民等环境问题，请在这里举报。提交后会得到一个查询码，用它可以随时查看办理进度。',
    text: '问题描述',
    textHint: '请写清楚发生了什么、在哪里、什么时间，是否还在继续。',
    counter: '已输入 {n} / {max} 字',
    counterLimit: '最多 {max} 字',
    photos: '现场照片',
    photosHint: `可选，最多 ${MAX_PHOTOS} 张，每张不超过 ${MAX_PHOTO_BYTES / 1024 / 1024} MB。`,
    photosAgain: '出于安全原因，浏览器不会保留已选的照片，请重新选择。',
    camera: '或用手机相机直接拍照',
    place: '地点',
    address: '地址或位置描述',
    addressHint: '例如：兴隆办事处盐下村三组，村口桥下的水沟。',
    locate: '使用我的位置',
    locating: '正在获取位置…',
    located: '已获取位置：',
    noLocation: '无法获取位置，请填写地址。',
    clearLocation: '清除位置',
    locationCleared: '已清除位置，将按您填写的地址和描述确定地点。',
    mapHint: '也可以在地图上点击，标出问题发生的位置。',
    haveLocation: '已记录位置：',
    outsideLocation: '您当前的位置不在{district}范围内，没有使用。请在地图上标出问题发生的地点，或填写地址。',
    outsideLocationNoMap: '您当前的位置不在{district}范围内，没有使用。请填写问题发生的地址。',
    outsidePin: '标出的位置不在{district}范围内，没有使用。请在{district}范围内标注，或填写地址。',
    errLocationOutside: '记录的位置不在{district}范围内，已去掉。请填写问题发生的地址，或重新标出地点后再提交。',
    zoomIn: '放大地图',
    zoomOut: '缩小地图',
    pin: '标出的问题位置',
    contact: '联系方式',
    contactHint: '选填。留下电话便于核实情况；举报人信息依法保密。',
    name: '姓名',
    phone: '电话',
    anonymous: '匿名举报',
    anonymousHint: '勾选后不保存您的姓名和电话，任何单位都无法知道是谁举报的，也无法回电联系您。',
    share: '同意承办单位查看我的姓名和电话，以便核实情况',
    submit: '提交举报',
    sending: '正在提交…',
    fix: '提交未成功，请按提示修改后再提交。',
    notSent: '提交未成功。',
    errTextEmpty: '请描述您发现的问题。',
    errTextLong: `问题描述最多 ${MAX_TEXT_CHARS} 字，现在是 {n} 字。`,
    errTextIsCode: '这是一个查询码，不是问题描述，所以没有提交。要查看这件举报的办理进度，请点下面的链接；要举报新的问题，请描述您发现的问题。',
    followCode: '查看查询码 {code} 的办理进度',
    errChars: '含有无法识别的字符（可能是复制时的乱码），请删除后再提交。',
    errAddress: '地址最多 300 字。',
    errName: '姓名最多 50 字。',
    errPhone: '请填写正确的电话号码（至少 5 位数字，可含空格、短横线、括号和开头的 +；分机号写在“转”之后，如 0731-88886666转123）。',
    errLocation: '位置坐标无效，请重新获取位置或在地图上重新标注。',
    errPhotoCount: `最多上传 ${MAX_PHOTOS} 张照片。`,
    errPhotoSize: `每张照片不能超过 ${MAX_PHOTO_BYTES / 1024 / 1024} MB。`,
    errPhotoEmpty: '有一张照片是空文件，请重新选择。',
    errPhotoType: '只能上传 JPEG、PNG、WebP、GIF、HEIC 或 AVIF 格式的图片。',
    errPhotoSizeOf: `照片“{name}”有 {size} MB，每张照片不能超过 ${MAX_PHOTO_BYTES / 1024 / 1024} MB，请换一张或缩小后再选。`,
    errPhotoEmptyOf: '照片“{name}”是空文件，请重新选择。',
    errPhotoTypeOf: '“{name}”不是可以上传的图片：只能上传 JPEG、PNG、WebP、GIF、HEIC 或 AVIF 格式的图片。',
    errPhotosTooLarge: `所选的 {n} 张照片共 {size} MB，超过了一件举报能带的照片（最多 ${MAX_PHOTOS} 张，每张不超过 ${MAX_PHOTO_BYTES / 1024 / 1024} MB），所以没有提交。您填写的内容已保留，请少选几张或换成较小的照片后再提交。`,
    errKey: '提交未成功，请稍后再试。',
    errTooMany: '从您所在网络提交的举报已达上限（每 {window}最多 {n} 件），这次没有提交。您填写的内容已保留，请于 {until} 之后再提交；情况紧急请拨打 12369 环保热线或 12345 热线。',
    errExpired: '页面已过期，举报尚未提交。您填写的内容已保留，请检查后再次提交。',
    doneTitle: '举报已受理',
    doneLead: '您的查询码',
    doneKeep: '请记下或截图保存这个查询码，凭它查看办理进度和答复，并在答复后进行评价。',
    doneFollow: '查看办理进度',
    doneAnother: '再举报一个问题',
    optional: '（选填）',
  },
  en: {
    title: 'Report an environmental problem',
    intro:
      'Seen waste water discharged, rubbish or hazardous waste dumped, pesticides misused, or noise at night? Report it here. You get a tracking code to follow the case.',
    text: 'What is the problem?',
    textHint: 'What happened, where, when, and is it still going on?',
    counter: '{n} / {max} characters',
    counterLimit: 'At most {max} characters',
    photos: 'Photos',
    photosHint: `Optional, up to ${MAX_PHOTOS}, each at most ${MAX_PHOTO_BYTES / 1024 / 1024} MB.`,
    photosAgain: 'For your safety the browser does not keep chosen photos: please choose them again.',
    camera: 'Or take a photo with the camera',
    place: 'Place',
    address: 'Address or description of the place',
    addressHint: 'For example: Yanxia village, group 3, Xinglong office; the ditch under the bridge.',
    locate: 'Use my location',
    locating: 'Finding your location…',
    located: 'Location found:',
    noLocation: 'Your location is not available; please give an address.',
    clearLocation: 'Remove the location',
    locationCleared: 'Location removed: the place is taken from the address and description you give.',
    mapHint: 'You can also click on the map to mark where it happens.',
    haveLocation: 'Location recorded:',
    outsideLocation: 'Your location is outside {district}, so it was not used. Mark the place on the map, or type the address.',
    outsideLocationNoMap: 'Your location is outside {district}, so it was not used. Please type the address of the place.',
    outsidePin: 'The place marked is outside {district}, so it was not used. Mark a place inside the district, or type the address.',
    errLocationOutside: 'The location recorded is outside {district} and has been removed. Type the address of the place, or mark it again, and send the report.',
    zoomIn: 'Zoom in',
    zoomOut: 'Zoom out',
    pin: 'The place marked',
    contact: 'Contact',
    contactHint: "Optional. A phone number helps the bureau check the facts; reporters' details are kept confidential.",
    name: 'Name',
    phone: 'Phone',
    anonymous: 'Report anonymously',
    anonymousHint: 'Your name and phone are then not kept: nobody can tell who reported it, and nobody can call you back.',
    share: 'The handling bureau may see my name and phone to check the facts',
    submit: 'Send the report',
    sending: 'Sending…',
    fix: 'The report was not sent. Please correct what is marked and send it again.',
    notSent: 'The report was not sent.',
    errTextEmpty: 'Please describe the problem.',
    errTextLong: `The description may be at most ${MAX_TEXT_CHARS} characters; this one is {n}.`,
    errTextIsCode: 'This is a tracking code, not a description of a problem, so nothing was sent. To follow that report, use the link below; to report a new problem, describe it.',
    followCode: 'Follow the report with tracking code {code}',
    errChars: 'Holds characters that cannot be read (garbled when copied?); please remove them and send again.',
    errAddress: 'The address may be at most 300 characters.',
    errName: 'The name may be at most 50 characters.',
    errPhone: 'Please give a phone number (at least 5 digits; spaces, dashes, brackets and a leading + are fine; an extension goes after "ext.", e.g. 0731-88886666 ext. 123).',
    errLocation: 'The location is not valid; find your location again or mark it on the map again.',
    errPhotoCount: `At most ${MAX_PHOTOS} photos.`,
    errPhotoSize: `Each photo at most ${MAX_PHOTO_BYTES / 1024 / 1024} MB.`,
    errPhotoEmpty: 'One of the photos is an empty file; please choose it again.',
    errPhotoType: 'Only JPEG, PNG, WebP, GIF, HEIC or AVIF images.',
    errPhotoSizeOf: `The photo "{name}" is {size} MB; each photo at most ${MAX_PHOTO_BYTES / 1024 / 1024} MB. Choose another or a smaller one.`,
    errPhotoEmptyOf: 'The photo "{name}" is an empty file; please choose it again.',
    errPhotoTypeOf: '"{name}" is not an image that can be sent: only JPEG, PNG, WebP, GIF, HEIC or AVIF images.',
    errPhotosTooLarge: `The photos chosen ({n}, {size} MB in all) are more than a report can carry (at most ${MAX_PHOTOS} photos of at most ${MAX_PHOTO_BYTES / 1024 / 1024} MB each), so nothing was sent. What you typed is kept: choose fewer or smaller photos and send it again.`,
    errKey: 'The report could not be sent; please try again in a moment.',
    errTooMany: 'Reports from your network have reached the limit ({n} per {window}), so this one was not sent. What you typed is kept: send it again after {until}. If it is urgent, call the 12369 environmental hotline or 12345.',
    errExpired: 'This page had expired and the report was not sent. What you typed is kept: check it and send it again.',
    doneTitle: 'Report received',
    doneLead: 'Your tracking code',
    doneKeep: 'Write it down or take a screenshot: with it you follow the case, read the answer and rate it.',
    doneFollow: 'Follow the case',
    doneAnother: 'Report another problem',
    optional: ' (optional)',
  },
};

interface FormValues {
  text: string;
  address: string;
  name: string;
  phone: string;
  lat: string;
  lng: string;
  anonymous: boolean;
  shareContact: boolean;
}

type FieldErrors = Partial<Record<Field, string>>;

/** The input each error summary entry leads to. */
const FIELD_INPUT: Record<Exclude<Field, 'form'>, string> = {
  text: 'text',
  address: 'address',
  location: 'address',
  name: 'name',
  phone: 'phone',
  photos: 'photos',
};

function emptyValues(): FormValues {
  return { text: '', address: '', name: '', phone: '', lat: '', lng: '', anonymous: false, shareContact: false };
}

interface MapSettings {
  tiles: string;
  attribution: string;
  lat: number;
  lng: number;
  zoom: number;
}

function mapSettings(c: Context<AppEnv>): MapSettings | null {
  const { env, district } = c.get('deps');
  if (!env.MAP_TILE_URL) return null;
  const b = district.file.district.bounds;
  return {
    tiles: env.MAP_TILE_URL,
    attribution: env.MAP_ATTRIBUTION ?? '',
    lat: env.MAP_CENTER?.lat ?? (b.south + b.north) / 2,
    lng: env.MAP_CENTER?.lng ?? (b.west + b.east) / 2,
    zoom: env.MAP_CENTER?.zoom ?? 13,
  };
}

/** aria attributes tying an input to its error. */
function invalid(errors: FieldErrors, field: Field, hint?: string) {
  const described = [errors[field] ? errorId(field) : null, hint ?? null].filter(Boolean).join(' ');
  return {
    'aria-invalid': errors[field] ? ('true' as const) : undefined,
    'aria-describedby': described || undefined,
  };
}

function renderForm(c: Context<AppEnv>, values: FormValues, errors: FieldErrors, photosSent: number, status: 200 | 400 | 403 | 409 | 413 | 429 = 200) {
  const { lang, csrf } = pageContext(c);
  const t = T[lang];
  const map = mapSettings(c);
  const { district } = c.get('deps');
  // The district's box: a position outside it (the resident away from home, a pin dragged far) is no place of a report here.
  const b = district.file.district.bounds;
  const bounds = `${b.south},${b.west},${b.north},${b.east}`;
  const inDistrict = (template: string) => template.replaceAll('{district}', district.file.district.name[lang]);
  const hasErrors = Object.keys(errors).length > 0;
  const count = [...values.text].length;
  // The text was refused as a tracking code alone: where that code's case is followed.
  const askedCode = errors.text ? onlyTrackingCode(values.text) : null;
  const body = (
    <section class="narrow">
      <h1>{t.title}</h1>
      <p>{t.intro}</p>
      {hasErrors ? (
        <div class="notice error" role="alert" id="form-error" tabindex={-1}>
          {/* Nothing to correct when the refusal is not about a field (the limit reached, the form expired). */}
          <p>{Object.keys(errors).some((f) => f !== 'form') ? t.fix : t.notSent}</p>
          <ul>
            {(Object.entries(errors) as Array<[Field, string]>).map(([field, message]) =>
              field === 'form' ? <li>{message}</li> : <li><a href={`#${FIELD_INPUT[field]}`}>{message}</a></li>,
            )}
          </ul>
        </div>
      ) : null}
      <form method="post" action="/" enctype="multipart/form-data" id="report-form" novalidate data-keep-on-switch>
        <CsrfField token={csrf} />

        <label for="text">{t.text}</label>
        <p class="hint" id="text-hint">
          {t.textHint}
        </p>
        <FieldError name="text" message={errors.text} />
        {askedCode ? (
          <p class="hint" id="text-code-link">
            <a href={`/track/${askedCode}`}>{t.followCode.replace('{code}', askedCode)}</a>
          </p>
        ) : null}
        {/* No maxlength: a browser cuts a longer paste short without a word (and counts an emoji as two).
            The counter turns red past the limit, and the server refuses it with the text kept whole. */}
        <textarea id="text" name="text" rows={7} required data-max={MAX_TEXT_CHARS} {...invalid(errors, 'text', 'text-hint text-count')}>
          {values.text}
        </textarea>
        {/* Not a live region: one would speak the count at every character typed, over the typing. report.js says it in
            #text-count-said once the typing pauses. Written here as the limit: report.js counts (from the page's load
            on); without it, a count written here would stay what it was while the resident types. */}
        <p class={count > MAX_TEXT_CHARS ? 'hint field-error' : 'hint'} id="text-count" data-template={t.counter}>
          {t.counterLimit.replace('{max}', String(MAX_TEXT_CHARS))}
        </p>
        <p class="sr-only" id="text-count-said" aria-live="polite"></p>

        <label for="photos">
          {t.photos}
          <span class="hint">{t.optional}</span>
        </label>
        <p class="hint" id="photos-hint">
          {t.photosHint}
        </p>
        <FieldError name="photos" message={errors.photos} />
        {photosSent > 0 && hasErrors && !errors.photos ? (
          <p class="field-error" id="photos-again">
            {t.photosAgain}
          </p>
        ) : errors.photos ? (
          <p class="hint">{t.photosAgain}</p>
        ) : (
          // Shown by app.js when photos were chosen before the language was switched: they do not come along.
          <p class="field-error" id="photos-again" hidden data-files-again>
            {t.photosAgain}
          </p>
        )}
        {/* The limits, for the page's script to say before sending: a form over the size the service reads at all
            is refused whole (413), with nothing typed coming back. */}
        <input
          type="file"
          id="photos"
          name="photos"
          accept="image/*"
          multiple
          data-max-count={MAX_PHOTOS}
          data-max-bytes={MAX_PHOTO_BYTES}
          data-err-count={t.errPhotoCount}
          data-err-size={t.errPhotoSize}
          data-err-size-of={t.errPhotoSizeOf}
          {...invalid(errors, 'photos', 'photos-hint')}
          {...filePickerAttrs(lang, 'photos')}
        />
        <label for="camera" class="camera">
          {t.camera}
        </label>
        <input type="file" id="camera" name="photos" accept="image/*" capture="environment" aria-describedby="photos-hint" {...filePickerAttrs(lang, 'camera')} />

        <fieldset class="place">
          <legend>{t.place}</legend>
          <label for="address">
            {t.address}
            <span class="hint">{t.optional}</span>
          </label>
          <p class="hint" id="address-hint">
            {t.addressHint}
          </p>
          <FieldError name="address" message={errors.address} />
          {/* No maxlength here either (nor on the name and phone): a longer paste is refused with what was pasted kept, not cut short unseen. */}
          <input type="text" id="address" name="address" value={values.address} autocomplete="street-address" {...invalid(errors, 'address', 'address-hint')} />

          <input type="hidden" id="lat" name="lat" value={values.lat} />
          <input type="hidden" id="lng" name="lng" value={values.lng} />
          <FieldError name="location" message={errors.location} />
          <p class="actions">
            <button
              type="button"
              class="secondary"
              hidden
              data-geolocate
              data-lat="#lat"
              data-lng="#lng"
              data-status="#geo-status"
              data-pending={t.locating}
              data-done={t.located}
              data-unavailable={t.noLocation}
              data-bounds={bounds}
              data-outside={inDistrict(map ? t.outsideLocation : t.outsideLocationNoMap)}
            >
              {t.locate}
            </button>{' '}
            {/* Shown by report.js while a location is recorded: one taken where the resident is, not where the problem is
                (at home, reporting the factory up the valley), would otherwise place the case there for good. */}
            <button type="button" class="secondary" hidden data-clear-location data-cleared={t.locationCleared}>
              {t.clearLocation}
            </button>
          </p>
          <p class="hint" id="geo-status" aria-live="polite" data-recorded={t.haveLocation}>
            {values.lat && values.lng ? `${t.haveLocation} ${values.lat}, ${values.lng}` : ''}
          </p>
          {map ? (
            <>
              <p class="hint" id="map-hint" hidden>
                {t.mapHint}
              </p>
              <div
                id="map"
                class="map"
                hidden
                role="application"
                aria-label={t.mapHint}
                data-tiles={map.tiles}
                data-attribution={map.attribution}
                data-lat={String(map.lat)}
                data-lng={String(map.lng)}
                data-zoom={String(map.zoom)}
                data-zoom-in={t.zoomIn}
                data-zoom-out={t.zoomOut}
                data-pin={t.pin}
                data-bounds={bounds}
                data-outside={inDistrict(t.outsidePin)}
              ></div>
            </>
          ) : null}
        </fieldset>

        <fieldset class="contact">
          <legend>{t.contact}</legend>
          <p class="hint" id="contact-hint">
            {t.contactHint}
          </p>
          <label for="name">
            {t.name}
            <span class="hint">{t.optional}</span>
          </label>
          <FieldError name="name" message={errors.name} />
          <input type="text" id="name" name="name" value={values.name} autocomplete="name" {...invalid(errors, 'name', 'contact-hint')} />
          <label for="phone">
            {t.phone}
            <span class="hint">{t.optional}</span>
          </label>
          <FieldError name="phone" message={errors.phone} />
          <input type="tel" id="phone" name="phone" value={values.phone} autocomplete="tel" inputmode="tel" {...invalid(errors, 'phone', 'contact-hint')} />
          <label class="check" for="shareContact">
            <input type="checkbox" id="shareContact" name="shareContact" value="on" checked={values.shareContact} />
            <span>{t.share}</span>
          </label>
          <label class="check" for="anonymous">
            <input type="checkbox" id="anonymous" name="anonymous" value="on" checked={values.anonymous} aria-describedby="anonymous-hint" />
            <span>{t.anonymous}</span>
          </label>
          <p class="hint" id="anonymous-hint">
            {t.anonymousHint}
          </p>
        </fieldset>

        <p class="actions">
          <button type="submit" data-sending={t.sending}>
            {t.submit}
          </button>
        </p>
      </form>
    </section>
  );
  return renderPage(c, t.title, body, {
    status,
    refused: hasErrors,
    scripts: map ? ['leaflet.js', 'report.js'] : ['report.js'],
    styles: map ? ['leaflet.css'] : [],
  });
}

/** What the resident typed into the form, as the form shows it again. */
function typedValues(form: Record<string, unknown>): FormValues {
  return {
    text: stringField(form, 'text'),
    address: stringField(form, 'address'),
    name: stringField(form, 'name'),
    phone: stringField(form, 'phone'),
    lat: stringField(form, 'lat'),
    lng: stringField(form, 'lng'),
    anonymous: stringField(form, 'anonymous') !== '',
    shareContact: stringField(form, 'shareContact') !== '',
  };
}

/** The chosen files; a file input left empty still sends one nameless empty part. */
function chosenFiles(form: Record<string, unknown>): File[] {
  const v = form.photos;
  const all = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return all.filter((f): f is File => f instanceof File && !(f.size === 0 && f.name === ''));
}

/** A photo's refusal naming it (and its size in MB, as a phone's gallery shows it, when given). */
function photoWords(template: string, name: string, bytes?: number): string {
  return template.replace('{name}', name).replace('{size}', bytes === undefined ? '' : (bytes / 1024 / 1024).toFixed(1));
}

/** The zod issues of the shared form schema, as messages for a resident. */
function fieldErrors(lang: Lang, issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>, values: FormValues, files: File[]): FieldErrors {
  const t = T[lang];
  const out: FieldErrors = {};
  for (const issue of issues) {
    const field = String(issue.path[0] ?? 'form');
    let key: Field;
    let message: string;
    if ((field === 'text' || field === 'address' || field === 'name') && isTextFault(issue.message)) {
      out[field] ??= t.errChars;
      continue;
    }
    switch (field) {
      case 'text':
        key = 'text';
        message = issue.message.startsWith('at most')
          ? t.errTextLong.replace('{n}', String([...values.text.trim()].length))
          : issue.message.startsWith(TRACKING_CODE_TEXT)
            ? t.errTextIsCode
            : t.errTextEmpty;
        break;
      case 'address':
        key = 'address';
        message = t.errAddress;
        break;
      case 'name':
        key = 'name';
        message = t.errName;
        break;
      case 'phone':
        key = 'phone';
        message = t.errPhone;
        break;
      case 'lat':
      case 'lng':
        key = 'location';
        message = t.errLocation;
        break;
      case 'photos': {
        key = 'photos';
        // A photo refused for itself is named (of five chosen, which one), with its size when too large.
        const file = typeof issue.path[1] === 'number' ? files[issue.path[1]] : undefined;
        const name = file ? keptFileName(file.name) : null;
        if (issue.message.includes('MB')) message = name && file ? photoWords(t.errPhotoSizeOf, name, file.size) : t.errPhotoSize;
        else if (issue.message.includes('empty')) message = name ? photoWords(t.errPhotoEmptyOf, name) : t.errPhotoEmpty;
        else message = t.errPhotoCount;
        break;
      }
      default:
        key = 'form';
        message = issue.message;
    }
    out[key] ??= message;
  }
  return out;
}

export function reportPageRoutes() {
  const app = new Hono<AppEnv>();

  app.get('/', csrfProtection(), loadSession(), (c) => renderForm(c, emptyValues(), {}, 0));

  // A form sent after its token lapsed (the browser was closed, cookies cleared) comes back as typed, to send again.
  const expired = csrfProtection({
    refused: (c, form) => renderForm(c, typedValues(form), { form: T[pageContext(c).lang].errExpired }, chosenFiles(form).length, 403),
    // More photos than a report carries (over what any form may be), sent without the page's script to stop them: the
    // form comes back as typed, saying how large they were and the limits, instead of the plain 413 that lost the text.
    tooLarge: async (c, maxBytes) => {
      const sent = await readOversizedForm(c.req.raw, { maxFieldBytes: MAX_JSON_BYTES, maxBodyBytes: 8 * maxBytes });
      if (!sent) return null;
      const words = photoWords(T[pageContext(c).lang].errPhotosTooLarge, '', sent.fileBytes).replace('{n}', String(sent.files));
      return renderForm(c, typedValues(withLineFeeds(sent.fields)), { photos: words }, sent.files, 413);
    },
  });

  app.post('/', expired, loadSession(), async (c) => {
    const deps = c.get('deps');
    const { lang } = pageContext(c);
    const form = await readForm(c);
    const values = typedValues(form);
    const files = chosenFiles(form);
    const parsed = reportFormSchema.safeParse({
      text: values.text,
      address: values.address,
      lat: values.lat,
      lng: values.lng,
      name: values.name,
      phone: values.phone,
      anonymous: values.anonymous ? 'on' : undefined,
      shareContact: values.shareContact ? 'on' : undefined,
      photos: files,
    });
    if (!parsed.success) return renderForm(c, values, fieldErrors(lang, parsed.error.issues, values, files), files.length, 400);
    const body = parsed.data;

    let photos;
    try {
      photos = await readUploads(body.photos, { field: 'photos', allowed: IMAGE_TYPES, expected: 'an image' });
    } catch (err) {
      if (err instanceof AppError && err.code === 'validation_failed') {
        // The field names the photo that is no image (`photos.2`, or `photos` when one was sent).
        const at = Object.keys(err.fields ?? {}).map((k) => /^photos(?:\.(\d+))?$/.exec(k)).find((m) => m !== null);
        const name = at ? keptFileName(body.photos[Number(at[1] ?? 0)]?.name) : null;
        return renderForm(c, values, { photos: name ? photoWords(T[lang].errPhotoTypeOf, name) : T[lang].errPhotoType }, files.length, 400);
      }
      throw err;
    }

    // A location outside the district (a device that skipped the page's own check) would give bureaus a far-away point
    // routing ignores: sent back without it, saying so, for the address to be given.
    const location = body.lat !== undefined && body.lng !== undefined ? { lat: body.lat, lng: body.lng } : null;
    if (location && !insideDistrict(deps.district, location)) {
      const words = T[lang].errLocationOutside.replaceAll('{district}', deps.district.file.district.name[lang]);
      return renderForm(c, { ...values, lat: '', lng: '' }, { location: words }, files.length, 400);
    }

    // Anonymous: the name and phone are not kept at all.
    const input: ReportInput = {
      channel: 'web',
      ...reporterFields(body),
      location,
      occurredAt: null,
      photos,
    };
    // One browser (its CSRF cookie) sending the same report on the same day
    // makes one case: a double click, a resend after a lost answer, or going
    // back and sending the form again all find the case already made.
    const csrfToken = c.get('csrfToken') ?? '';
    const day = localDate(deps.clock.now(), deps.district.file.district.timezone);
    const idempotencyKey = csrfToken ? scopedKey('web-form', csrfToken, day, fingerprint(input).slice(0, 32)) : undefined;
    let accepted;
    try {
      accepted = await acceptPublicReport(c, input, idempotencyKey);
    } catch (err) {
      if (err instanceof IntakeLimited) {
        const said = refusalWords(err.limit, err.retryAfterS, deps.clock.now(), lang, deps.district.file.district.timezone);
        const text = T[lang].errTooMany.replace('{window}', said.window).replace('{n}', String(said.reports)).replace('{until}', said.until);
        return renderForm(c, values, { form: text }, files.length, 429);
      }
      // The fingerprint is part of the key, so only an astronomically unlikely collision lands here.
      if (err instanceof AppError && err.code === 'idempotency_key_reused') {
        return renderForm(c, values, { form: T[lang].errKey }, files.length, 409);
      }
      throw err;
    }
    return c.redirect(`/submitted/${accepted.trackingCode}`, 303);
  });

  app.get('/submitted/:code', csrfProtection(), loadSession(), async (c) => {
    const deps = c.get('deps');
    const { lang } = pageContext(c);
    const t = T[lang];
    const code = normalizeTrackingCode(c.req.param('code'));
    const found = code ? await findCaseByTrackingCode(deps.db, code) : null;
    if (!found) throw new AppError('not_found', lang === 'zh' ? '没有这个查询码。' : 'No such tracking code.');
    return renderPage(
      c,
      t.doneTitle,
      <section class="narrow">
        <h1>{t.doneTitle}</h1>
        <div class="notice ok" role="status">
          <p>{t.doneLead}</p>
          <p class="big-code" id="tracking-code">
            {found.trackingCode}
          </p>
          <p>{t.doneKeep}</p>
        </div>
        <p class="actions">
          <a class="button" href={`/track/${found.trackingCode}`}>
            {t.doneFollow}
          </a>
          <a class="button secondary" href="/">
            {t.doneAnother}
          </a>
        </p>
      </section>,
    );
  });

  return app;
}
