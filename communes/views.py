from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from communes import selectors


@login_required
def unit_list(request):
    query = request.GET.get("q", "").strip()
    units = selectors.units_for_list(request.user)
    if query:
        units = units.filter(name__icontains=query)
    page = Paginator(units, 50).get_page(request.GET.get("page"))
    return render(request, "communes/unit_list.html", {"page": page, "query": query})


@login_required
def unit_detail(request, pk: int):
    unit = selectors.unit_for_detail(request.user, pk)
    children = unit.children.order_by("name")
    offices = unit.post_offices.order_by("code")
    return render(
        request, "communes/unit_detail.html", {"unit": unit, "children": children, "offices": offices}
    )
