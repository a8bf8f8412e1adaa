package ui

import (
	"fmt"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	flang "fyne.io/fyne/v2/lang"

	"sort"
	"sync/atomic"
)

// Lang is a UI language.
type Lang string

const (
	Chinese Lang = "zh" // the default
	English Lang = "en"
)

var lang atomic.Value // Lang

func init() { lang.Store(Chinese) }

// SetLang switches the UI language (menus and panels built afterwards use it). Anything but
// English selects Chinese, the default.
func SetLang(l Lang) {
	if l != English {
		l = Chinese
	}
	lang.Store(l)
	toolkitLang(l)
}

// toolkitLang makes fyne's own words (the Quit menu item, the OK/Cancel/Yes/No buttons and
// titles of its dialogs) follow the UI language instead of the system locale: fyne takes its
// locale from the environment whenever translations are added.
func toolkitLang(l Lang) {
	loc, words := "en", `{"Quit": "Quit"}`
	if l == Chinese {
		loc, words = "zh_CN", `{"Quit": "退出", "Error": "错误", "OK": "确定", "Cancel": "取消", "Yes": "是", "No": "否", "Information": "提示"}`
	}
	os.Setenv("LANGUAGE", loc)
	flang.AddTranslationsForLocale([]byte(words), fyne.Locale(strings.Replace(loc, "_CN", "-Hans", 1)))
}

// CurrentLang returns the UI language.
func CurrentLang() Lang { return lang.Load().(Lang) }

// T returns the text for key in the current language; a key missing from the table is shown
// as itself so a forgotten translation is visible, not blank.
func T(key string) string {
	if m, ok := messages[key]; ok {
		if s := m[CurrentLang()]; s != "" {
			return s
		}
		return m[Chinese]
	}
	return key
}

// Tf is T with fmt.Sprintf arguments.
func Tf(key string, args ...any) string { return fmt.Sprintf(T(key), args...) }

// messageKeys lists the table's keys (for the completeness test).
func messageKeys() []string {
	ks := make([]string, 0, len(messages))
	for k := range messages {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// messages holds every UI string: key → language → text.
var messages = map[string]map[Lang]string{
	"app.title":        {Chinese: "SealDesk 电子印章", English: "SealDesk e-Seal"},
	"menu.file":        {Chinese: "文件", English: "File"},
	"menu.open":        {Chinese: "打开…", English: "Open…"},
	"menu.recent":      {Chinese: "最近打开", English: "Recent files"},
	"menu.noRecent":    {Chinese: "（无）", English: "(none)"},
	"menu.addKeystore": {Chinese: "添加软证书文件…", English: "Add keystore file…"},
	"menu.addSeal":     {Chinese: "添加印章文件…", English: "Add seal file…"},
	"menu.batch":       {Chinese: "批量签章…", English: "Batch sign…"},
	"menu.exportJSON":  {Chinese: "导出验证报告 (JSON)…", English: "Export report (JSON)…"},
	"menu.exportPDF":   {Chinese: "导出验证报告 (PDF)…", English: "Export report (PDF)…"},
	"menu.quit":        {Chinese: "退出", English: "Quit"},
	"menu.view":        {Chinese: "视图", English: "View"},
	"menu.zoomIn":      {Chinese: "放大", English: "Zoom in"},
	"menu.zoomOut":     {Chinese: "缩小", English: "Zoom out"},
	"menu.zoom100":     {Chinese: "实际大小", English: "Actual size"},
	"menu.nextPage":    {Chinese: "下一页", English: "Next page"},
	"menu.prevPage":    {Chinese: "上一页", English: "Previous page"},
	"menu.seal":        {Chinese: "盖章", English: "Seal"},
	"menu.coords":      {Chinese: "按坐标盖章…", English: "Place at coordinates…"},
	"menu.keyword":     {Chinese: "按关键字盖章…", English: "Place at keyword…"},
	"menu.cross":       {Chinese: "骑缝章…", English: "Cross-page seal…"},
	"menu.clear":       {Chinese: "清除待盖印章", English: "Clear placements"},
	"menu.settings":    {Chinese: "设置", English: "Settings"},
	"menu.language":    {Chinese: "语言", English: "Language"},
	"menu.dark":        {Chinese: "深色主题", English: "Dark theme"},
	"menu.light":       {Chinese: "浅色主题", English: "Light theme"},
	"menu.restart":     {Chinese: "语言将在重新启动后生效", English: "The language changes at the next start"},

	"panel.keys":     {Chinese: "印章密钥", English: "Seal keys"},
	"panel.seals":    {Chinese: "印章", English: "Seals"},
	"panel.sigs":     {Chinese: "签章", English: "Signatures"},
	"panel.pages":    {Chinese: "页面", English: "Pages"},
	"keys.none":      {Chinese: "未检测到印章密钥（插入 USB Key 或添加软证书）", English: "No seal key found (insert a USB key or add a keystore)"},
	"keys.token":     {Chinese: "USB Key：%s", English: "USB key: %s"},
	"keys.soft":      {Chinese: "软证书：%s", English: "Keystore: %s"},
	"keys.seals":     {Chinese: "%d 枚印章", English: "%d seal(s)"},
	"keys.locked":    {Chinese: "PIN 已锁定", English: "PIN locked"},
	"keys.moduleErr": {Chinese: "模块 %s 不可用：%s", English: "Module %s unusable: %s"},
	"keys.inserted":  {Chinese: "已插入 %s", English: "%s inserted"},
	"keys.removed":   {Chinese: "已拔出 %s", English: "%s removed"},
	"seals.none":     {Chinese: "无可用印章", English: "No seal available"},
	"seals.drag":     {Chinese: "将印章拖到页面上", English: "Drag a seal onto the page"},
	"seals.size":     {Chinese: "%.0f × %.0f 毫米", English: "%.0f × %.0f mm"},
	"seals.revoked":  {Chinese: "已吊销（不可用）", English: "revoked (unusable)"},
	"seals.status":   {Chinese: "状态：%s", English: "status: %s"},

	"status.noKey":         {Chinese: "未插入印章密钥", English: "No seal key"},
	"status.key":           {Chinese: "密钥：%s", English: "Key: %s"},
	"status.hub":           {Chinese: "中心", English: "Hub"},
	"status.hubNone":       {Chinese: "中心：未配置（单机）", English: "Hub: none (standalone)"},
	"status.hubOK":         {Chinese: "中心：已同步 %s", English: "Hub: synced %s"},
	"status.hubIdle":       {Chinese: "中心：未同步", English: "Hub: not synced"},
	"status.hubBusy":       {Chinese: "中心：同步中…", English: "Hub: syncing…"},
	"sync.back":            {Chinese: "已重新连上登记中心，上传 %d 条记录", English: "Hub reachable again: %d records sent"},
	"status.hubDown":       {Chinese: "中心：不可达（%s）", English: "Hub: unreachable (%s)"},
	"status.outbox":        {Chinese: "待同步：%d", English: "Outbox: %d"},
	"status.outboxRefused": {Chinese: "待同步：%d（被拒收 %d）", English: "Outbox: %d (%d refused)"},
	"status.place":         {Chinese: "印章位置：第 %d 页 (%.1f, %.1f) 毫米", English: "Seal at page %d (%.1f, %.1f) mm"},
	"status.placements":    {Chinese: "待盖印章：%d 处", English: "Placements: %d"},
	"status.zoom":          {Chinese: "缩放 %d%%", English: "Zoom %d%%"},
	"status.opening":       {Chinese: "正在打开 %s…", English: "Opening %s…"},
	"status.opened":        {Chinese: "已打开 %s（%d 页）", English: "Opened %s (%d pages)"},
	"status.verifying":     {Chinese: "正在验章…", English: "Verifying…"},
	"status.signing":       {Chinese: "正在签章…", English: "Signing…"},
	"status.signed":        {Chinese: "已签章，另存为 %s", English: "Signed; saved as %s"},

	"doc.none":      {Chinese: "打开或拖入 PDF / OFD 文件", English: "Open or drop a PDF / OFD file"},
	"doc.page":      {Chinese: "第 %d / %d 页", English: "Page %d of %d"},
	"doc.openErr":   {Chinese: "无法打开 %s：%v", English: "Cannot open %s: %v"},
	"doc.renderErr": {Chinese: "第 %d 页无法显示：%v", English: "Page %d cannot be shown: %v"},

	"action.sign":   {Chinese: "签章", English: "Sign"},
	"action.verify": {Chinese: "验章", English: "Verify"},
	"action.sync":   {Chinese: "同步", English: "Sync"},
	"action.open":   {Chinese: "打开", English: "Open"},
	"action.cancel": {Chinese: "取消", English: "Cancel"},
	"action.ok":     {Chinese: "确定", English: "OK"},
	"action.close":  {Chinese: "关闭", English: "Close"},

	"place.page":    {Chinese: "页码", English: "Page"},
	"place.x":       {Chinese: "中心 X（毫米）", English: "Centre X (mm)"},
	"place.y":       {Chinese: "中心 Y（毫米）", English: "Centre Y (mm)"},
	"place.keyword": {Chinese: "关键字", English: "Keyword"},
	"place.every":   {Chinese: "全部匹配处", English: "Every hit"},
	"place.hits":    {Chinese: "找到 %d 处", English: "%d hit(s)"},
	"place.hit":     {Chinese: "第 %d 页：%s", English: "Page %d: %s"},
	"place.noHits":  {Chinese: "未找到“%s”", English: "\"%s\" not found"},
	"place.first":   {Chinese: "起始页", English: "First page"},
	"place.last":    {Chinese: "结束页", English: "Last page"},
	"place.badNum":  {Chinese: "请输入数字：%s", English: "Enter a number: %s"},
	"place.badPage": {Chinese: "页码超出范围（1–%d）", English: "Page out of range (1–%d)"},
	"place.noDoc":   {Chinese: "请先打开文件", English: "Open a document first"},
	"place.noSeal":  {Chinese: "请先选择印章", English: "Choose a seal first"},
	"place.none":    {Chinese: "请先把印章拖到页面上", English: "Place a seal on the page first"},

	"sign.noKey":              {Chinese: "请先插入印章密钥或添加软证书", English: "Insert a seal key or add a keystore first"},
	"sign.removed":            {Chinese: "印章密钥已拔出，签章已停止", English: "The seal key was removed: signing stopped"},
	"sign.failed":             {Chinese: "签章失败：%v", English: "Signing failed: %v"},
	"sign.refused":            {Chinese: "印章不可用：%v", English: "Seal not usable: %v"},
	"sign.batchTitle":         {Chinese: "批量签章", English: "Batch signing"},
	"sign.batchItem":          {Chinese: "%d / %d：%s", English: "%d of %d: %s"},
	"sign.batchDone":          {Chinese: "完成 %d 个，失败 %d 个", English: "%d done, %d failed"},
	"sign.what":               {Chinese: "文件：%s\n印章：%s\n证书：%s\n密钥：%s", English: "Document: %s\nSeal: %s\nCertificate: %s\nKey: %s"},
	"sign.cancelled":          {Chinese: "已取消签章", English: "Signing cancelled"},
	"keys.unavailable":        {Chinese: "无法读取密钥配置：%v", English: "Cannot read the key configuration: %v"},
	"seal.seal_revoked":       {Chinese: "印章已吊销，不能再用于签章", English: "The seal is revoked and can no longer sign"},
	"seal.seal_suspended":     {Chinese: "印章已暂停使用", English: "The seal is suspended"},
	"seal.seal_withdrawn":     {Chinese: "印章已撤销", English: "The seal is withdrawn"},
	"seal.seal_lost":          {Chinese: "印章已挂失", English: "The seal is reported lost"},
	"seal.seal_not_filed":     {Chinese: "印章未在印章中心备案", English: "The seal is not filed with the seal hub"},
	"seal.seal_expired":       {Chinese: "印章已过有效期", English: "The seal has expired"},
	"seal.seal_not_yet_valid": {Chinese: "印章尚未生效", English: "The seal is not yet valid"},
	"seal.status_stale":       {Chinese: "印章状态太久未更新，请连接印章中心后点“同步”", English: "The seal's status is too old: connect to the hub and press Sync"},
	"seal.status_unknown":     {Chinese: "无法确认印章状态：印章中心连不上，本机也没有可用的记录", English: "The seal's status cannot be confirmed: the hub is unreachable and nothing is cached"},
	"seal.hub_refused":        {Chinese: "印章中心拒绝了查询，请检查本机的中心凭据", English: "The hub refused the question: check this computer's hub credential"},
	"seal.unusable":           {Chinese: "印章当前不可用", English: "The seal cannot sign now"},
	"seal.reason":             {Chinese: "（原因：%s）", English: " (reason: %s)"},
	"seal.since":              {Chinese: "，自 %s 起", English: ", since %s"},
	"hub.unreachable":         {Chinese: "连不上印章中心（网络不通或中心未运行）", English: "The seal hub cannot be reached (network down or hub not running)"},
	"hub.refused":             {Chinese: "印章中心拒绝了请求（%s）", English: "The hub refused the request (%s)"},

	"pin.title":     {Chinese: "输入 PIN 码", English: "Enter PIN"},
	"pin.password":  {Chinese: "输入软证书口令", English: "Enter the keystore password"},
	"pin.triesLeft": {Chinese: "还可尝试 %d 次", English: "%d tries left"},
	"pin.countLow":  {Chinese: "上次输入的 PIN 错误", English: "The last PIN entered was wrong"},
	"pin.finalTry":  {Chinese: "最后一次尝试：再错将锁定", English: "Final try: another wrong PIN locks the key"},
	"pin.locked":    {Chinese: "PIN 已锁定，请联系管理员", English: "PIN locked: contact your administrator"},
	"pin.wrong":     {Chinese: "PIN 错误", English: "Wrong PIN"},
	"pin.empty":     {Chinese: "请输入 PIN", English: "Enter the PIN"},

	"verify.valid":      {Chinese: "有效", English: "Valid"},
	"verify.invalid":    {Chinese: "无效", English: "Invalid"},
	"verify.unknown":    {Chinese: "无法确定", English: "Unknown"},
	"verify.none":       {Chinese: "本文件没有签章", English: "This document has no signatures"},
	"verify.signer":     {Chinese: "签章人", English: "Signer"},
	"verify.seal":       {Chinese: "印章", English: "Seal"},
	"verify.time":       {Chinese: "时间", English: "Time"},
	"verify.integrity":  {Chinese: "完整性", English: "Integrity"},
	"verify.changes":    {Chinese: "签后修改", English: "Changes after"},
	"verify.chain":      {Chinese: "证书链", English: "Chain"},
	"verify.revocation": {Chinese: "吊销状态", English: "Revocation"},
	"verify.registry":   {Chinese: "印章登记", English: "Registry"},
	"verify.problems":   {Chinese: "问题", English: "Problems"},
	"verify.report":     {Chinese: "验证报告", English: "Verification report"},
	"verify.file":       {Chinese: "文件", English: "File"},
	"verify.overallIs":  {Chinese: "结论：%s", English: "Verdict: %s"},
	"verify.sigN":       {Chinese: "签章 %d：%s", English: "Signature %d: %s"},
	"verify.failed":     {Chinese: "验章失败：%v", English: "Verification failed: %v"},
	"verify.goto":       {Chinese: "转到第 %d 页", English: "Go to page %d"},
	"verify.exported":   {Chinese: "报告已保存：%s", English: "Report saved: %s"},

	"verify.sigNo":         {Chinese: "签章 %d", English: "Signature %d"},
	"time.claimed":         {Chinese: "（签章人电脑时间，未经时间戳证明）", English: " (the signer's clock, not time-stamped)"},
	"time.timestamp":       {Chinese: "（可信时间戳）", English: " (time-stamped)"},
	"sealStatus.active":    {Chinese: "有效", English: "active"},
	"sealStatus.revoked":   {Chinese: "已吊销", English: "revoked"},
	"sealStatus.suspended": {Chinese: "已暂停", English: "suspended"},
	"sealStatus.withdrawn": {Chinese: "已撤销", English: "withdrawn"},
	"sealStatus.lost":      {Chinese: "已挂失", English: "lost"},
	"sealStatus.unknown":   {Chinese: "未备案", English: "not filed"},

	"fact.ok":         {Chinese: "通过", English: "ok"},
	"fact.failed":     {Chinese: "失败", English: "failed"},
	"fact.unknown":    {Chinese: "未知", English: "unknown"},
	"fact.none":       {Chinese: "无", English: "none"},
	"fact.allowed":    {Chinese: "允许的修改", English: "allowed"},
	"fact.disallowed": {Chinese: "不允许的修改", English: "disallowed"},
	"fact.notAsked":   {Chinese: "未查询", English: "not asked"},

	"file.reportSuffix": {Chinese: "-验证报告", English: "-report"},
	"file.open":         {Chinese: "打开文件", English: "Open file"},
	"file.save":         {Chinese: "保存文件", English: "Save file"},
	"file.saveBtn":      {Chinese: "保存", English: "Save"},
	"file.choose":       {Chinese: "选择此文件夹", English: "Choose this folder"},
	"file.path":         {Chinese: "路径：", English: "Path:"},
	"file.pathHint":     {Chinese: "输入或粘贴完整路径，按回车确定", English: "Type or paste a full path, then press Enter"},
	"file.location":     {Chinese: "位置：%s", English: "Folder: %s"},
	"file.up":           {Chinese: "上一级", English: "Up"},
	"file.home":         {Chinese: "主目录", English: "Home"},
	"file.empty":        {Chinese: "请选择或输入文件名", English: "Choose or type a file name"},
	"file.notFound":     {Chinese: "找不到文件：%s", English: "No such file: %s"},
	"file.notDir":       {Chinese: "不是文件夹：%s", English: "Not a folder: %s"},
	"file.noDir":        {Chinese: "文件夹不存在：%s", English: "No such folder: %s"},
	"file.wrongType":    {Chinese: "请选择 %s 文件", English: "Choose a %s file"},
	"file.unreadable":   {Chinese: "无法打开文件夹：%s", English: "Cannot open the folder %s"},
	"file.exists":       {Chinese: "“%s”已存在，要覆盖吗？", English: "\"%s\" exists. Replace it?"},
	"file.overwrite":    {Chinese: "覆盖", English: "Replace"},
	"sign.batchFolder":  {Chinese: "选择要批量签章的文件夹", English: "Choose the folder to sign"},

	"sync.done":           {Chinese: "同步完成：上传 %d 条记录", English: "Synced: %d record(s) sent"},
	"sync.failed":         {Chinese: "同步失败：%v", English: "Sync failed: %v"},
	"sync.refused":        {Chinese: "同步完成：上传 %d 条；%d 条被登记中心拒收（%s），可在菜单中“重新发送被拒记录”", English: "Synced: %d sent; %d refused by the hub (%s); use \"Send refused records again\" in the menu"},
	"action.retryRefused": {Chinese: "重新发送被拒记录", English: "Send refused records again"},
	"refused.notFiled":    {Chinese: "印章尚未在登记中心备案，备案后会自动重发", English: "the seal is not filed on the hub yet; sent again automatically once it is"},
	"refused.credential":  {Chinese: "凭据不属于该印章所在单位，更换凭据后会自动重发", English: "the credential is not the seal's organisation's; sent again automatically after it is corrected"},
	"refused.malformed":   {Chinese: "记录内容无效，已被永久拒收", English: "the record is malformed and was refused for good"},
	"refused.other":       {Chinese: "登记中心暂时拒收，稍后自动重发", English: "refused by the hub for now; sent again automatically later"},
	"error":               {Chinese: "错误", English: "Error"},
}
