import { describe, expect, it } from "vitest";
import { podPage } from "../../library/stats-pages.js";
import { parseShowStat } from "./stats.js";

// The head of HAProxy 2.6's `show stat` header and two rows, as a sidecar answers it.
const SHOW_STAT = [
  "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,",
  "payments,BACKEND,0,0,0,1,1,6,600,900,0,0,,0,0,0,0,UP,2,2,0,,0,37,0,,1,4,0,,6,,1,0,,1,,,,0,6,0,0,0,0,,,,6,",
  "payments,<b>-0,0,0,0,1,,3,300,450,,0,,0,0,0,0,DOWN,1,1,0,1,1,2,2,,1,4,1,,3,,2,0,,1,L4CON,,0,0,3,0,0,0,0,,,,3,",
  "",
].join("\n");

describe("parseShowStat", () => {
  it("keeps the columns worth a glance, in their order, for every row", () => {
    const stats = parseShowStat(SHOW_STAT);
    expect(stats.columns).toEqual(["proxy", "server", "status", "weight", "in flight", "queued", "sessions", "requests", "2xx", "4xx", "5xx", "conn errors", "resp errors", "retries", "redispatches", "check", "s since change"]);
    expect(stats.rows[0]).toEqual(["payments", "BACKEND", "UP", "2", "0", "0", "6", "6", "6", "0", "0", "0", "0", "0", "0", "", "37"]);
    expect(stats.raw).toBe(SHOW_STAT);
  });

  it("refuses an answer that is not show stat's CSV", () => {
    expect(() => parseShowStat("Unknown command\n")).toThrow(/expected a "# pxname,..." header/);
  });

  it("the page marks a server that is not up and escapes what the proxy names", () => {
    const page = podPage("checkout-0", parseShowStat(SHOW_STAT));
    expect(page).toContain('<tr class="back"><td>payments</td><td>BACKEND</td><td>UP</td>');
    expect(page).toContain('<tr class="down"><td>payments</td><td>&lt;b&gt;-0</td><td>DOWN</td>');
    expect(page).not.toContain("<b>");
  });
});
